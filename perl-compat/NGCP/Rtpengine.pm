package NGCP::Rtpengine;

# ng control protocol client (rtpengine-ts perl-compat).
#
#   my $c = NGCP::Rtpengine->new('127.0.0.1', 2223);      # or ->new($connected_udp_socket)
#   my $r = $c->req({ command => 'ping' });                 # dies on timeout or result=error
#   my $r = $c->req_raw({ command => 'offer', ... });       # dies only on timeout/garbage
#
# Each request gets a fresh cookie; a request that is not answered within $c->{timeout}
# seconds is sent again with the SAME cookie (the daemon answers retransmits from its
# cookie cache), up to $c->{retries} further times. Replies carrying another cookie (late
# answers to earlier requests) are discarded.

use strict;
use warnings;
use Socket qw(SOCK_DGRAM);
use IO::Socket::IP;
use IO::Select;
use Time::HiRes ();
use Data::Dumper ();
use JSON::PP ();
use NGCP::Rtpengine::Bencode ();

our $req_cb;        # called after every request is sent (rtpengine compatibility)
our $VERSION = '0.1';

my $cookie_seq = 0;

sub new {
	my ($class, $addr, $port, %opts) = @_;
	my $self = bless {
		timeout => $opts{timeout} // $ENV{RTPE_NG_TIMEOUT} // 1,
		retries => $opts{retries} // $ENV{RTPE_NG_RETRIES} // 3,
		json => $opts{json} // 0,
	}, $class;
	if (ref($addr)) {
		$self->{socket} = $addr;
	}
	else {
		$addr //= '127.0.0.1';
		$port //= 2223;
		$self->{host} = $addr;
		$self->{port} = $port;
		$self->{socket} = IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp',
				PeerHost => $addr, PeerPort => $port);
		$self->{socket_error} = "$@" unless $self->{socket};
	}
	return $self;
}

sub _cookie {
	$cookie_seq++;
	return sprintf('%d_%d_%06d', $$, $cookie_seq, int(rand(1000000)));
}

sub encode_body {
	my ($self, $packet) = @_;
	return $self->{json} ? JSON::PP->new->canonical->encode($packet)
		: NGCP::Rtpengine::Bencode::bencode($packet);
}

sub decode_body {
	my ($self, $body) = @_;
	if ($body =~ /^\{/) {
		return JSON::PP->new->decode($body);
	}
	return NGCP::Rtpengine::Bencode::bdecode($body);
}

# Sends a request and returns the decoded reply, whatever its result.
sub req_raw {
	my ($self, $packet) = @_;
	my $sock = $self->{socket}
		or die "no control socket to rtpengine: " . ($self->{socket_error} // 'unknown error') . "\n";
	my $cookie = _cookie();
	my $msg = $cookie . ' ' . (ref($packet) ? $self->encode_body($packet) : $packet);
	my $sel = IO::Select->new($sock);
	my $tries = 1 + $self->{retries};
	for my $try (1 .. $tries) {
		defined($sock->send($msg, 0)) or die "sending to rtpengine failed: $!\n";
		$req_cb->() if $req_cb && $try == 1;
		my $deadline = Time::HiRes::time() + $self->{timeout};
		while (1) {
			my $left = $deadline - Time::HiRes::time();
			last if $left <= 0;
			next unless $sel->can_read($left);
			my $buf = '';
			# ECONNREFUSED from an earlier datagram shows up here: nobody listens (yet)
			defined($sock->recv($buf, 65535, 0)) or next;
			my ($rc, $body) = $buf =~ /^(\S+) (.*)\z/s or next;
			next if $rc ne $cookie;
			$self->{last_cookie} = $cookie;
			$self->{last_tries} = $try;
			return $self->decode_body($body);
		}
	}
	my $where = defined $self->{host} ? " at $self->{host}:$self->{port}" : '';
	die "no reply from rtpengine$where after $tries tries ($self->{timeout} s each)\n";
}

# rtpengine-compatible: dies on an error reply.
sub req {
	my ($self, $packet) = @_;
	my $resp = $self->req_raw($packet);
	ref($resp) eq 'HASH' && defined $resp->{result} or die "reply without result: " . Data::Dumper::Dumper($resp);
	if ($resp->{result} eq 'error') {
		die "Error reason: \"" . ($resp->{'error-reason'} // '') . "\"\n";
	}
	return $resp;
}

sub offer {
	my ($self, $packet) = @_;
	return $self->req({ command => 'offer', %$packet });
}

sub answer {
	my ($self, $packet) = @_;
	return $self->req({ command => 'answer', %$packet });
}

sub delete {
	my ($self, $packet) = @_;
	return $self->req({ command => 'delete', %$packet });
}

sub ping {
	my ($self) = @_;
	my $r = eval { $self->req_raw({ command => 'ping' }) };
	return ($r && ref($r) eq 'HASH' && ($r->{result} // '') eq 'pong') ? 1 : 0;
}

1;
