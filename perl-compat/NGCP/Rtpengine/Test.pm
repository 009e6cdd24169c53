package NGCP::Rtpengine::Test;

# Object API in the style of rtpengine's NGCP::Rtpengine::Test: a test run holds the ng client,
# clients (call parties) own RTP/RTCP socket pairs on test addresses, generate their SDP,
# offer/answer/delete through the daemon and exchange media; every packet a client sends is
# queued as "expected" at its media receiver and checked on arrival.
#
#   my $r = NGCP::Rtpengine::Test->new(port => 2223);
#   my ($a, $b) = $r->client_pair({ address => '198.51.100.1' }, { address => '198.51.100.3' });
#   $a->offer($b, ICE => 'remove');
#   $b->answer($a, ICE => 'remove');
#   $a->start_rtp(); $b->start_rtp();
#   $r->timer_once(1, sub { $r->stop() });
#   $r->run();
#   $a->delete();
#
# Not implemented (yet): ICE, DTLS, SRTP, multiple m= sections, RTCP report generation
# (start_rtcp sends minimal receiver reports), Net::Interface address discovery.

use strict;
use warnings;
use Socket qw(SOCK_DGRAM AF_INET AF_INET6);
use IO::Socket::IP;
use IO::Select;
use Time::HiRes qw(time);
use NGCP::Rtpengine;

sub new {
	my ($class, %args) = @_;
	my $self = bless {}, $class;
	$self->{v4_addresses} = $args{v4_addresses} // [ map { "198.51.100.$_" } 1 .. 20 ];
	$self->{v6_addresses} = $args{v6_addresses} // [ map { "2001:db8:1234::$_" } 1 .. 20 ];
	$self->{media_port} = $args{media_port} // 2000;
	$self->{timers} = [];
	$self->{clients} = [];
	$self->{control} = NGCP::Rtpengine->new($args{host} // $ENV{RTPENGINE_HOST} // '127.0.0.1',
		$args{port} // $ENV{RTPENGINE_PORT} // 2223);
	$self->{callid} = $args{callid} // ('test-call-' . rand());
	$self->{addr_iter} = { 4 => 0, 6 => 0 };
	return $self;
}

sub _next_address {
	my ($self, $family) = @_;
	my $list = $family == 6 ? $self->{v6_addresses} : $self->{v4_addresses};
	my $i = $self->{addr_iter}{$family}++ % @$list;
	return $list->[$i];
}

sub client {
	my ($self, %args) = @_;
	my $cl = NGCP::Rtpengine::Test::Client->_new($self, %args);
	push(@{$self->{clients}}, $cl);
	return $cl;
}

sub client_pair {
	my ($self, $args_a, $args_b) = @_;
	my $a = $self->client(%{$args_a // {}});
	my $b = $self->client(%{$args_b // {}});
	$a->media_receiver($b);
	$b->media_receiver($a);
	return ($a, $b);
}

sub timer_once {
	my ($self, $delay, $sub) = @_;
	push(@{$self->{timers}}, { sub => $sub, when => time() + $delay });
	@{$self->{timers}} = sort { $a->{when} <=> $b->{when} } @{$self->{timers}};
}

# Runs the event loop until stop() is called (or for $duration seconds if given).
sub run {
	my ($self, $duration) = @_;
	$self->{running} = 1;
	$self->timer_once($duration, sub { $self->stop() }) if defined $duration;
	while ($self->{running}) {
		my $sel = IO::Select->new(map { @{$_->{sockets}} } @{$self->{clients}});
		for my $fh ($sel->can_read(0.01)) {
			my $buf = '';
			my $peer = $fh->recv($buf, 65535, 0);
			next unless defined $peer;
			for my $cl (@{$self->{clients}}) {
				last if $cl->_input($fh, $buf, $peer);
			}
		}
		my $now = time();
		while (@{$self->{timers}} && $self->{timers}[0]{when} <= $now) {
			my $t = shift(@{$self->{timers}});
			$t->{sub}->();
		}
		$_->_timer() for @{$self->{clients}};
	}
}

sub stop {
	my ($self) = @_;
	$self->{running} = 0;
	$_->stop() for @{$self->{clients}};
}

package NGCP::Rtpengine::Test::Client;

use strict;
use warnings;
use Socket qw(SOCK_DGRAM AF_INET6 inet_pton pack_sockaddr_in pack_sockaddr_in6 AF_INET);
use Time::HiRes qw(time);

sub _new {
	my ($class, $parent, %args) = @_;
	my $self = bless { parent => $parent }, $class;
	$self->{tag} = $args{tag} // ('tag-' . rand());
	my $family = ($args{sockdomain} && $args{sockdomain} == AF_INET6) || ($args{address} // '') =~ /:/ ? 6 : 4;
	my $addr = $args{address} // $parent->_next_address($family);
	my $port = $args{port} // do { my $p = $parent->{media_port}; $parent->{media_port} += 2; $p };
	my @s;
	for my $p ($port, $port + 1) {
		push @s, IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp', LocalHost => $addr,
			LocalPort => $p) or die "cannot bind [$addr]:$p: $@";
	}
	$self->{address} = $addr;
	$self->{family} = $family;
	$self->{port} = $port;
	$self->{sockets} = \@s;
	$self->{protocol} = $args{protocol} // 'RTP/AVP';
	$self->{payload_types} = $args{payload_types} // [0];
	$self->{media_receive_queues} = [[], []];
	$self->{media_packets_sent} = [0, 0];
	$self->{media_packets_received} = [0, 0];
	$self->{media_errors} = [];
	$self->{component_peers} = [];
	$self->{sdp_version} = 1;
	return $self;
}

sub media_receiver { my ($self, $other) = @_; $self->{media_receiver} = $other }
sub media_to_receive { my ($self, $component, $s) = @_; push(@{$self->{media_receive_queues}[$component]}, $s) }

sub local_sdp {
	my ($self) = @_;
	my $ipv = $self->{family} == 6 ? 'IP6' : 'IP4';
	my $id = int($self->{port}) + 1000000;
	return "v=0\r\no=- $id $self->{sdp_version} IN $ipv $self->{address}\r\ns=tester\r\nt=0 0\r\n"
		. "m=audio $self->{port} $self->{protocol} @{$self->{payload_types}}\r\n"
		. "c=IN $ipv $self->{address}\r\na=sendrecv\r\n";
}

sub _parse_remote {
	my ($self, $sdp) = @_;
	defined $sdp or die "reply carries no SDP\n";
	my ($sess_c, $media_c, $port, $rtcp, $rtcp_addr, $in_media, $medias);
	for my $l (split(/\r?\n/, $sdp)) {
		if ($l =~ /^m=\S+ (\d+)/) { $port = $1; $in_media = 1; $medias++ }
		elsif ($l =~ /^c=IN IP[46] (\S+)/) { $in_media ? ($media_c //= $1) : ($sess_c = $1) }
		elsif ($l =~ /^a=rtcp:(\d+)(?: IN IP[46] (\S+))?/) { $rtcp = $1; $rtcp_addr = $2 }
	}
	$medias == 1 or die "expected exactly one m= section in the daemon's SDP, got " . ($medias // 0) . "\n";
	my $addr = $media_c // $sess_c // die "no c= line in the daemon's SDP\n";
	$self->{remote_sdp} = $sdp;
	$self->{remote_media} = { address => $addr, port => $port,
		rtcp_address => $rtcp_addr // $addr, rtcp_port => $rtcp // $port + 1 };
}

sub _dest {
	my ($self, $component) = @_;
	my $rm = $self->{remote_media};
	if ($rm) {
		my ($a, $p) = $component ? @$rm{qw(rtcp_address rtcp_port)} : @$rm{qw(address port)};
		return $a =~ /:/ ? pack_sockaddr_in6($p, inet_pton(AF_INET6, $a)) : pack_sockaddr_in($p, inet_pton(AF_INET, $a));
	}
	return $self->{component_peers}[$component];
}

sub _packet_send {
	my ($self, $component, $s) = @_;
	my $dest = $self->_dest($component) or die "no destination known for component $component\n";
	$self->{sockets}[$component]->send($s, 0, $dest);
}

sub _media_send {
	my ($self, $component, $s) = @_;
	$self->_packet_send($component, $s);
	$self->{media_packets_sent}[$component]++;
	$self->{media_receiver}->media_to_receive($component, $s) if $self->{media_receiver};
}

sub rtp_send { my ($self, $s) = @_; $self->_media_send(0, $s) }
sub rtcp_send { my ($self, $s) = @_; $self->_media_send(1, $s) }

sub _req_args {
	my ($self, $cmd, %args) = @_;
	my $req = { command => $cmd, 'call-id' => $self->{parent}{callid} };
	for my $k (keys %args) {
		next if $k eq 'flags';
		$req->{$k} = $args{$k};
	}
	push(@{$req->{flags}}, @{$args{flags}}) if $args{flags};
	return $req;
}

sub offer {
	my ($self, $other, %args) = @_;
	my $req = $self->_req_args('offer', 'from-tag' => $self->{tag}, sdp => $self->local_sdp, %args);
	my $out = $self->{parent}{control}->req($req);
	$other->_parse_remote($out->{sdp});
	return $out;
}

sub answer {
	my ($self, $other, %args) = @_;
	my $req = $self->_req_args('answer', 'from-tag' => $other->{tag}, 'to-tag' => $self->{tag},
		sdp => $self->local_sdp, %args);
	my $out = $self->{parent}{control}->req($req);
	$other->_parse_remote($out->{sdp});
	return $out;
}

sub delete {
	my ($self, %args) = @_;
	my $req = $self->_req_args('delete', 'from-tag' => $self->{tag}, %args);
	return $self->{parent}{control}->req($req);
}

# Returns true when the datagram arrived on one of this client's sockets.
sub _input {
	my ($self, $fh, $buf, $peer) = @_;
	my $component;
	for my $i (0, 1) { $component = $i if $fh == $self->{sockets}[$i] }
	return 0 unless defined $component;
	$self->{component_peers}[$component] = $peer;
	my $exp = shift(@{$self->{media_receive_queues}[$component]});
	if (!defined $exp) {
		push(@{$self->{media_errors}}, "unexpected packet on component $component: " . unpack('H*', $buf));
	}
	elsif ($exp ne $buf) {
		push(@{$self->{media_errors}}, "component $component: expected " . unpack('H*', $exp)
			. ', got ' . unpack('H*', $buf));
	}
	else {
		$self->{media_packets_received}[$component]++;
	}
	return 1;
}

sub start_rtp {
	my ($self, %args) = @_;
	die "RTP already started\n" if $self->{rtp};
	$self->{rtp} = { ssrc => $args{ssrc} // int(rand(2**32)), seq => int(rand(65536)),
		ts => int(rand(2**32)), pt => $args{pt} // $self->{payload_types}[0],
		interval => $args{interval} // 0.02, payload => $args{payload} // ("\xff" x 160), next => time() };
}

sub start_rtcp {
	my ($self, %args) = @_;
	die "RTCP already started\n" if $self->{rtcp};
	$self->{rtcp} = { interval => $args{interval} // 0.5, next => time() + 0.1 };
}

sub _timer {
	my ($self) = @_;
	my $now = time();
	if (my $r = $self->{rtp}) {
		while ($r->{next} <= $now) {
			$self->rtp_send(pack('CCnNN a*', 0x80, $r->{pt}, $r->{seq}, $r->{ts}, $r->{ssrc}, $r->{payload}));
			$r->{seq} = ($r->{seq} + 1) & 0xffff;
			$r->{ts} = ($r->{ts} + 160) & 0xffffffff;
			$r->{next} += $r->{interval};
		}
	}
	if (my $c = $self->{rtcp}) {
		if ($c->{next} <= $now) {
			my $ssrc = $self->{rtp} ? $self->{rtp}{ssrc} : 0x12345678;
			$self->rtcp_send(pack('CCnN', 0x80, 201, 1, $ssrc)); # empty receiver report
			$c->{next} = $now + $c->{interval};
		}
	}
}

# Stops generating RTP/RTCP; packets still in flight are received and checked by run().
sub stop_media {
	my ($self) = @_;
	delete $self->{rtp};
	delete $self->{rtcp};
}

sub stop {
	my ($self) = @_;
	$self->stop_media();
	print("media packets sent: @{$self->{media_packets_sent}}\n");
	print("media packets received: @{$self->{media_packets_received}}\n");
	my @queues = map { scalar(@$_) } @{$self->{media_receive_queues}};
	print("media packets outstanding: @queues\n");
}

1;
