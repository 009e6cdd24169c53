package NGCP::Rtpengine::AutoTest;

# rtpengine's "auto-daemon-tests" API, written for rtpengine-ts (see perl-compat/README.md).
# Test scripts written against sipwise rtpengine's module run unchanged:
#
#   autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -n 2223 ...)) or die;
#   new_call;
#   offer('name', { flags... }, <<SDP);
#   ...input SDP...
#   ----------------------------
#   ...expected output SDP with placeholders (PORT, ICEUFRAG, CRYPTO128, ?...)...
#   SDP
#   done_testing();

use strict;
use warnings;
use Test::More ();
use Test::Builder ();
use File::Temp ();
use File::Spec ();
use File::Basename ();
use Time::HiRes ();
use POSIX qw(:sys_wait_h);
use Socket qw(AF_INET AF_INET6 SOCK_DGRAM MSG_DONTWAIT inet_pton pack_sockaddr_in pack_sockaddr_in6
	unpack_sockaddr_in unpack_sockaddr_in6 sockaddr_family inet_ntop);
use IO::Socket::IP;
use IO::Select;
use NGCP::Rtpengine;
use Exporter 'import';

our @EXPORT = qw(autotest_start autotest_init new_call new_call_nc offer answer offer_answer
	rtpe_req rtpe_raw_req ft tt cid new_ft new_tt reverse_tags snd snd_no rcv rcv_no rcv_maybe
	rtp rtpm rtpmre escape crlf sdp_split use_json terminate create create_answer publish
	subscribe_request subscribe_answer srtp_snd srtp_rcv srtp_dec);
our @EXPORT_OK = qw(leak_check sdp_regex sdp_match sdp_partial_captures rtpe_client daemon_pid
	stop_daemon);
our %EXPORT_TAGS = (all => [@EXPORT, @EXPORT_OK]);

our $launch_cb;                 # called once the control socket exists (rtpengine compatibility)
our $host;                      # overrides RTPENGINE_HOST / 127.0.0.1
our $port;                      # overrides RTPENGINE_PORT / the -n option / 2223
our $rcv_timeout = $ENV{RTPE_TEST_RCV_TIMEOUT} // 2;     # seconds rcv() waits for a packet
our $rcv_no_wait = $ENV{RTPE_TEST_RCV_NO_WAIT} // 0.2;   # seconds rcv_no() waits
our $req_timeout = $ENV{RTPE_TEST_REQ_TIMEOUT} // 3;     # seconds an rtpe_req() may take in total
our $check_src_port = 0;        # when true, rcv() also asserts the packet's source port
our $last_rcv_from;             # [address, port] of the last packet rcv() got
our $stop_timeout = $ENV{RTPE_TEST_STOP_TIMEOUT} // 15; # seconds to wait for the daemon to exit

my $tb = Test::Builder->new;
my ($c, $rtpe_pid, $rtpe_stdout, $rtpe_stderr, $keep_logs, $daemon_checked);
my ($cid, $ft, $tt, @sockets, $tag_iter, $tag_suffix);
$tag_iter = 0;
$tag_suffix = '-' . rand();

# ---------------------------------------------------------------------------------------------
# daemon life cycle

sub _ng_port_from_cmdline {
	my (@cmd) = @_;
	for my $i (0 .. $#cmd) {
		my $v;
		if ($cmd[$i] eq '-n' || $cmd[$i] eq '--listen-ng') { $v = $cmd[$i + 1] }
		elsif ($cmd[$i] =~ /^--listen-ng=(.*)$/) { $v = $1 }
		elsif ($cmd[$i] =~ /^-n(\S+)$/) { $v = $1 }
		next unless defined $v;
		return $1 if $v =~ /(?:^|:)(\d+)$/;
	}
	return;
}

sub _log_files {
	my $dir = $ENV{RTPE_TEST_LOGDIR};
	my $base = File::Basename::basename($0);
	$base =~ s/[^\w.-]/_/g;
	if ($dir && -d $dir) {
		my $out = File::Spec->catfile($dir, "$base.stdout");
		my $err = File::Spec->catfile($dir, "$base.stderr");
		open(my $o, '>', $out) or die "cannot write $out: $!";
		open(my $e, '>', $err) or die "cannot write $err: $!";
		$keep_logs = 1;
		return ({ fh => $o, name => $out }, { fh => $e, name => $err });
	}
	my $o = File::Temp->new(TEMPLATE => "rtpe-out.$base.XXXXXXXX", TMPDIR => 1);
	my $e = File::Temp->new(TEMPLATE => "rtpe-err.$base.XXXXXXXX", TMPDIR => 1);
	return ({ fh => $o, name => $o->filename, tmp => $o }, { fh => $e, name => $e->filename, tmp => $e });
}

sub autotest_start {
	my (@cmdline) = @_;

	$port //= $ENV{RTPENGINE_PORT} // _ng_port_from_cmdline(@cmdline);

	if ($ENV{RTPE_TEST_NO_LAUNCH}) {
		$tb->skip('daemon is running externally');
		$tb->skip('daemon is running externally');
		return autotest_init();
	}

	my $bin = $ENV{RTPE_BIN};
	$tb->ok(defined($bin) && -x $bin, 'RTPE_BIN points to executable')
		or $tb->diag("RTPE_BIN is " . (defined $bin ? "'$bin' (missing or not executable)" : 'not set'));

	($rtpe_stdout, $rtpe_stderr) = _log_files();
	$rtpe_stdout->{fh}->autoflush(1);
	$rtpe_stderr->{fh}->autoflush(1);

	my $pid = fork();
	defined($pid) or die "fork: $!";
	if (!$pid) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>&', $rtpe_stdout->{fh}) or POSIX::_exit(126);
		open(STDERR, '>&', $rtpe_stderr->{fh}) or POSIX::_exit(126);
		{ no warnings q(exec); exec { $bin } $bin, @cmdline; }
		print STDERR "exec $bin failed: $!\n";
		POSIX::_exit(127);
	}
	$rtpe_pid = $pid;
	$tb->ok($rtpe_pid, 'daemon launched in background');
	return autotest_init();
}

sub _daemon_gone {
	return 0 unless $rtpe_pid;
	my $r = waitpid($rtpe_pid, WNOHANG);
	return 0 if $r == 0;
	my $st = $?;
	$rtpe_pid = undef;
	$daemon_checked = 1;
	return [$st];
}

sub _tail {
	my ($f, $n) = @_;
	return '' unless $f && -r $f->{name};
	open(my $fh, '<', $f->{name}) or return '';
	my @l = <$fh>;
	@l = @l[-$n .. -1] if @l > $n;
	return join('', @l);
}

sub autotest_init {
	my $h = $host // $ENV{RTPENGINE_HOST} // '127.0.0.1';
	my $p = $port // $ENV{RTPENGINE_PORT} // 2223;
	$c = NGCP::Rtpengine->new($h, $p, timeout => 0.1, retries => 0);
	$c->{socket} or terminate("cannot create control socket to $h:$p: $c->{socket_error}");

	$tag_iter = 0;
	$tag_suffix = '-' . rand();

	$launch_cb->() if $launch_cb;

	# keep pinging while the daemon starts up (30 s at most)
	my $pong = 0;
	my $deadline = Time::HiRes::time() + ($ENV{RTPE_TEST_START_TIMEOUT} // 30);
	while (Time::HiRes::time() < $deadline) {
		if ($c->ping) { $pong = 1; last }
		if (my $gone = _daemon_gone()) {
			$tb->diag("daemon exited during startup with status $gone->[0]");
			$tb->diag("daemon stderr (tail):\n" . _tail($rtpe_stderr, 30));
			last;
		}
		Time::HiRes::sleep(0.1);
	}
	$c->{timeout} = 1;
	$c->{retries} = 2;
	$tb->ok($pong, 'ping works, daemon operational')
		or terminate("daemon at $h:$p does not answer 'ping'");
	return 1;
}

sub rtpe_client { return $c }
sub daemon_pid { return $rtpe_pid }

# Stops the daemon with SIGTERM and asserts that it exited with status 0 (rtpengine-ts exits
# non-zero when its leak check failed). Called automatically before done_testing's plan.
sub stop_daemon {
	return if $daemon_checked;
	$daemon_checked = 1;
	return unless $rtpe_pid;
	my $pid = $rtpe_pid;
	kill('TERM', $pid);
	my $status;
	my $deadline = Time::HiRes::time() + $stop_timeout;
	while (Time::HiRes::time() < $deadline) {
		my $r = waitpid($pid, WNOHANG);
		if ($r == $pid) { $status = $?; last }
		if ($r < 0) { last }
		Time::HiRes::sleep(0.05);
	}
	my $killed = 0;
	if (!defined $status) {
		kill('KILL', $pid);
		waitpid($pid, 0);
		$status = $?;
		$killed = 1;
	}
	$rtpe_pid = undef;
	my $ok = !$killed && $status == 0;
	my $desc = $killed ? "did not exit within $stop_timeout s of SIGTERM (killed)"
		: ($status & 127) ? 'killed by signal ' . ($status & 127)
		: 'exit code ' . ($status >> 8);
	$tb->ok($ok, 'daemon exited cleanly after SIGTERM (no leaks reported)')
		or do {
			$tb->diag("daemon: $desc");
			$tb->diag("daemon stderr (tail):\n" . _tail($rtpe_stderr, 40));
			_keep_logs();
		};
	return $ok;
}

sub _keep_logs {
	for my $f ($rtpe_stdout, $rtpe_stderr) {
		next unless $f;
		$f->{tmp}->unlink_on_destroy(0) if $f->{tmp};
	}
	$tb->diag("hint: rtpe stdout output is at $rtpe_stdout->{name}") if $rtpe_stdout;
	$tb->diag("hint: rtpe stderr output is at $rtpe_stderr->{name}") if $rtpe_stderr;
}

sub terminate {
	my ($msg) = @_;
	_keep_logs();
	die "error: $msg\n";
}

# The daemon's exit status becomes an assertion just before done_testing() prints the plan.
{
	no warnings 'redefine';
	my $orig = \&Test::Builder::done_testing;
	*Test::Builder::done_testing = sub {
		stop_daemon() if $rtpe_pid && !$daemon_checked;
		goto &$orig;
	};
}

END {
	if ($rtpe_pid && !$daemon_checked) {
		# the plan is already out (or the script died): report through the exit status
		my $exit = $?;
		my $ok = _stop_quiet();
		$? = $exit || ($ok ? 0 : 255);
	}
}

sub _stop_quiet {
	$daemon_checked = 1;
	my $pid = $rtpe_pid or return 1;
	kill('TERM', $pid);
	my $status;
	my $deadline = Time::HiRes::time() + $stop_timeout;
	while (Time::HiRes::time() < $deadline) {
		my $r = waitpid($pid, WNOHANG);
		if ($r == $pid) { $status = $?; last }
		last if $r < 0;
		Time::HiRes::sleep(0.05);
	}
	if (!defined $status) { kill('KILL', $pid); waitpid($pid, 0); $status = -1 }
	$rtpe_pid = undef;
	if ($status != 0) {
		print STDERR "# daemon did not exit cleanly after SIGTERM (status $status)\n";
		_keep_logs();
		return 0;
	}
	return 1;
}

# ---------------------------------------------------------------------------------------------
# calls and tags

sub new_call_nc {
	my @ports = @_;
	my @ret;
	$cid = $tag_iter++ . "-test-callID" . $tag_suffix;
	$ft = $tag_iter++ . "-test-fromtag" . $tag_suffix;
	$tt = $tag_iter++ . "-test-totag" . $tag_suffix;
	print("new call $cid\n");
	for my $p (@ports) {
		my ($addr, $lport) = @$p;
		my $s = IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp',
				LocalHost => $addr, LocalPort => $lport)
			or terminate("cannot bind UDP socket to [$addr]:$lport: $@");
		push(@ret, $s);
	}
	push(@sockets, @ret);
	return @ret;
}

sub new_call {
	$_->close() for @sockets;
	@sockets = ();
	return new_call_nc(@_);
}

sub ft { return $ft }
sub tt { return $tt }
sub cid { return $cid }
sub new_ft { $ft = $tag_iter++ . "-test-fromtag" . $tag_suffix; return $ft }
sub new_tt { $tt = $tag_iter++ . "-test-totag" . $tag_suffix; return $tt }
sub reverse_tags { ($tt, $ft) = ($ft, $tt) }

sub use_json {
	my ($bool) = @_;
	$c->{json} = $bool if $c;
}

# ---------------------------------------------------------------------------------------------
# signalling

sub crlf {
	my ($s) = @_;
	$s =~ s/\r\n/\n/gs;
	return $s;
}

sub sdp_split {
	my ($s) = @_;
	return split(/--------*\n/, $s);
}

sub _send_req {
	my ($req) = @_;
	$c or terminate('autotest_start/autotest_init was not called');
	my $resp = eval {
		local $c->{timeout} = $req_timeout / (1 + $c->{retries});
		$c->req_raw($req);
	};
	return ($resp, $@);
}

sub rtpe_req {
	my ($cmd, $name, $req) = @_;
	$req->{command} = $cmd;
	$req->{'call-id'} //= $cid;
	my ($resp, $err) = _send_req($req);
	if (!$resp) {
		$tb->ok(0, "$name - '$cmd' status");
		my $gone = _daemon_gone();
		$tb->diag($gone ? "daemon has exited with status $gone->[0]" : "no reply: $err");
		terminate("'$cmd' request failed ($err)");
	}
	my $r = ref($resp) eq 'HASH' ? $resp : { result => undef };
	$tb->is_eq($r->{result}, 'ok', "$name - '$cmd' status")
		or $tb->diag('error-reason: ' . ($r->{'error-reason'} // '(none)'));
	return $r;
}

# Sends a request and returns the reply without judging it.
#   rtpe_raw_req($cmd, $name, \%req)  - sets command and call-id (//= cid) like rtpe_req
#   rtpe_raw_req(\%req)               - sends the hash exactly as given
sub rtpe_raw_req {
	my ($req);
	if (ref($_[0]) eq 'HASH') {
		($req) = @_;
	}
	else {
		my ($cmd, $name);
		($cmd, $name, $req) = @_;
		$req //= {};
		$req->{command} = $cmd;
		$req->{'call-id'} //= $cid;
	}
	my ($resp, $err) = _send_req($req);
	terminate("'" . ($req->{command} // '?') . "' request failed ($err)") unless $resp;
	return $resp;
}

my @placeholders = (
	[ 'CRYPTO128S'     => '([0-9a-zA-Z/+]{38})' ],
	[ 'CRYPTO128'      => '([0-9a-zA-Z/+]{40})' ],
	[ 'CRYPTO192'      => '([0-9a-zA-Z/+]{51})' ],
	[ 'CRYPTO256S'     => '([0-9a-zA-Z/+]{59})' ],
	[ 'CRYPTO256'      => '([0-9a-zA-Z/+]{62})' ],
	[ 'FINGERPRINT256' => '([0-9a-fA-F:]{95})' ],
	[ 'FINGERPRINT'    => '([0-9a-fA-F:]{59})' ],
	[ 'SDP_VERSION'    => '\d+ \d+' ],
	[ 'RTPE_VERSION'   => 'rtpengine-\S+' ],
	[ 'ICEBASE'        => '([0-9a-zA-Z]{16})' ],
	[ 'ICEUFRAG'       => '([0-9a-zA-Z]{8})' ],
	[ 'ICEPWD'         => '([0-9a-zA-Z]{26})' ],
	[ 'LOOPER'         => '([0-9a-f]{12})' ],
	[ 'TLS_ID'         => '([0-9a-f]{32})' ],
	[ 'BGROUPS'        => '(\S+(?: \S+)*)' ],
	[ 'PORT'           => '(\d{1,5})' ],
);
my %ph = map { @$_ } @placeholders;
my $ph_re = join('|', map { $_->[0] } @placeholders);

# Turns an expected-SDP text into the regex source that sdp_match() applies.
sub sdp_regex {
	my ($exp) = @_;
	my $re = '';
	for my $piece (split(/($ph_re|\?)/, $exp)) {
		next if $piece eq '';
		if ($piece eq '?') { $re .= '.' }
		elsif (exists $ph{$piece}) { $re .= $ph{$piece} }
		else { $re .= quotemeta($piece) }
	}
	return "^$re\$";
}

sub _first_difference {
	my ($got, $exp) = @_;
	my @g = split(/\n/, $got, -1);
	my @e = split(/\n/, $exp, -1);
	for my $i (0 .. ($#g > $#e ? $#g : $#e)) {
		my $gl = $g[$i];
		my $el = $e[$i];
		if (defined $gl && defined $el) {
			my $lre = sdp_regex($el);
			next if $gl =~ /$lre/;
		}
		return sprintf("first difference at line %d:\n     got: %s\nexpected: %s", $i + 1,
			defined $gl ? "'$gl'" : '(end of SDP)', defined $el ? "'$el'" : '(end of SDP)');
	}
	return 'difference not located line by line';
}

# Captures of an expected SDP that did not match as a whole, taken line by line: each expected
# line holding capturing placeholders is looked for in the reply from where the previous one was
# found, first as a whole line, then (so that 'm=audio PORT RTP/AVP 0 8' still yields the port of
# 'm=audio 30000 RTP/AVP 8') as a line starting with the expected text up to its last capturing
# placeholder; a line found neither way gives undef for each of its captures. So the list has as
# many elements as a full match would have had, in the same order.
my $cap_ph_re = join('|', map { $_->[0] } grep { $_->[1] =~ /^\(/ } @placeholders);

sub sdp_partial_captures {
	my ($got, $exp) = @_;
	my @g = split(/\n/, crlf($got // ''));
	my @out;
	my $gi = 0;
	for my $el (split(/\n/, $exp // '')) {
		my $lre = sdp_regex($el);
		'' =~ /(?:$lre)|/;    # always matches; $#+ is then the number of capture groups
		my $n = $#+;
		next unless $n;
		my @res = ($lre);
		if ($el =~ /^(.*(?:$cap_ph_re))/s) {
			(my $pre = sdp_regex($1)) =~ s/\$\z//;
			push(@res, $pre);
		}
		my @caps;
		RE: for my $re (@res) {
			for my $j ($gi .. $#g) {
				my @m = $g[$j] =~ /$re/;
				next unless @m;
				@caps = @m;
				$gi = $j + 1;
				last RE;
			}
		}
		push(@out, @caps ? @caps : (undef) x $n);
	}
	return @out;
}

sub sdp_match {
	my ($cmd, $name, $sdp, $exp) = @_;
	$exp //= '';
	my $regexp = sdp_regex($exp);
	my $got = crlf($sdp // '');
	my @matches = $got =~ qr/$regexp/s;
	my $ok = $got =~ qr/$regexp/s;
	$tb->ok($ok, "$name - output '$cmd' SDP") or do {
		$tb->diag(_first_difference($got, $exp));
		$tb->diag("got SDP:\n$got");
		$tb->diag("expected SDP:\n$exp");
	};
	return @matches if $ok;
	# Unlike rtpengine (which returns nothing), hand back what can be found line by line, so
	# that one differing SDP line does not leave later snd()/rcv() without their ports.
	my @partial = sdp_partial_captures($got, $exp);
	$tb->diag('captures taken line by line after the mismatch: '
		. join(', ', map { defined $_ ? $_ : 'undef' } @partial)) if @partial;
	return @partial;
}

sub offer_answer {
	my ($cmd, $name, $req, $sdps) = @_;
	my ($sdp_in, $exp_sdp_out) = sdp_split($sdps);
	$req->{'from-tag'} //= $ft;
	$req->{sdp} = $sdp_in;
	my $resp = rtpe_req($cmd, $name, $req);
	return sdp_match($cmd, $name, $resp->{sdp}, $exp_sdp_out);
}

sub offer { return offer_answer('offer', @_) }

sub answer {
	my ($name, $req, $sdps) = @_;
	$req->{'to-tag'} //= $tt;
	return offer_answer('answer', $name, $req, $sdps);
}

sub publish { return offer_answer('publish', @_) }

sub subscribe_request {
	my ($name, $req, $sdp_exp) = @_;
	my $resp = rtpe_req('subscribe request', $name, $req);
	my @matches = sdp_match('subscribe request', $name, $resp->{sdp}, $sdp_exp);
	return ($resp->{'from-tag'}, $resp->{'to-tag'}, $resp->{'from-tags'}, $resp->{'tag-medias'},
		$resp->{'media-labels'}, @matches);
}

sub subscribe_answer {
	my ($name, $req, $sdp) = @_;
	$req->{sdp} = $sdp;
	return rtpe_req('subscribe answer', $name, $req);
}

# create: the daemon generates an offer from scratch; returns the placeholder captures.
sub create {
	my ($name, $req, $sdp_exp) = @_;
	$req->{'from-tag'} //= $ft;
	my $resp = rtpe_req('create', $name, $req);
	return sdp_match('create', $name, $resp->{sdp}, $sdp_exp);
}

# create answer: hands the answer to a 'create' offer to the daemon; returns the reply.
sub create_answer {
	my ($name, $req, $sdp) = @_;
	$req->{'from-tag'} //= $ft;
	$req->{sdp} = $sdp;
	return rtpe_req('create answer', $name, $req);
}

# Zero-leak check (rtpengine-ts): 'statistics' reply's top-level leaks hash must show no leaked
# object, no double release and no live object. Teardown may finish asynchronously, so the
# check is repeated for up to $wait seconds before it is asserted.
sub leak_check {
	my ($name, $wait) = @_;
	$name //= 'end of test';
	$wait //= 3;
	my ($resp, $leaks);
	my $deadline = Time::HiRes::time() + $wait;
	while (1) {
		($resp) = _send_req({ command => 'statistics' });
		$leaks = ref($resp) eq 'HASH' ? $resp->{leaks} : undef;
		my $clean = ref($leaks) eq 'HASH' && !($leaks->{leaked} // 1) && !($leaks->{doubleRelease} // 1)
			&& ref($leaks->{live}) eq 'HASH' && !grep { $_ } values %{$leaks->{live}};
		last if $clean || Time::HiRes::time() >= $deadline;
		Time::HiRes::sleep(0.1);
	}
	$tb->is_eq(ref($resp) eq 'HASH' ? $resp->{result} : undef, 'ok', "$name - 'statistics' status");
	$tb->ok(ref($leaks) eq 'HASH', "$name - statistics reply has a leaks hash") or return 0;
	my $ok = 1;
	$tb->is_num($leaks->{leaked}, 0, "$name - leaks: leaked == 0") or $ok = 0;
	$tb->is_num($leaks->{doubleRelease}, 0, "$name - leaks: doubleRelease == 0") or $ok = 0;
	if ($tb->ok(ref($leaks->{live}) eq 'HASH', "$name - leaks: live counts present")) {
		for my $type (sort keys %{$leaks->{live}}) {
			$tb->is_num($leaks->{live}{$type}, 0, "$name - leaks: no live $type") or $ok = 0;
		}
	}
	else { $ok = 0 }
	return $ok;
}

# ---------------------------------------------------------------------------------------------
# media

sub _sockaddr {
	my ($addr, $p) = @_;
	if ($addr =~ /:/) {
		my $a6 = inet_pton(AF_INET6, $addr) or die "bad IPv6 address '$addr'";
		return pack_sockaddr_in6($p, $a6);
	}
	my $a4 = inet_pton(AF_INET, $addr) or die "bad IPv4 address '$addr'";
	return pack_sockaddr_in($p, $a4);
}

sub _default_dest {
	my ($sock) = @_;
	return $sock->sockdomain == AF_INET6 ? '2001:db8:4321::1' : '203.0.113.1';
}

sub _peer {
	my ($sa) = @_;
	return unless defined $sa && length $sa;
	my $fam = sockaddr_family($sa);
	if ($fam == AF_INET) { my ($p, $a) = unpack_sockaddr_in($sa); return [inet_ntop(AF_INET, $a), $p] }
	if ($fam == AF_INET6) { my ($p, $a) = unpack_sockaddr_in6($sa); return [inet_ntop(AF_INET6, $a), $p] }
	return;
}

# A destination port that is not a number (usually undef: an earlier offer/answer reply did not
# give the port the script captures) is a failed assertion instead of a die, so the rest of the
# script still runs (rtpengine's snd dies there).
sub _bad_dest {
	my ($what, $dest) = @_;
	return 0 if defined $dest && $dest =~ /^\d+$/;
	$tb->ok(0, "$what: packet sent");
	$tb->diag("$what: no usable destination port (" . (defined $dest ? "'$dest'" : 'undef')
		. '); was it captured from an SDP reply that did not match?');
	return 1;
}

sub snd {
	my ($sock, $dest, $packet, $addr) = @_;
	return if _bad_dest('snd', $dest);
	$addr //= _default_dest($sock);
	defined($sock->send($packet, 0, _sockaddr($addr, $dest)))
		or die "sending to [$addr]:$dest failed: $!";
}

# Like snd(), but a failing send is not fatal; returns whether the datagram was sent.
sub snd_no {
	my ($sock, $dest, $packet, $addr) = @_;
	return 0 unless defined $dest && $dest =~ /^\d+$/;
	$addr //= _default_dest($sock);
	return defined($sock->send($packet, 0, _sockaddr($addr, $dest))) ? 1 : 0;
}

sub rtp {
	my ($pt, $seq, $ts, $ssrc, $payload) = @_;
	print("rtp in $pt $seq $ts $ssrc\n");
	return pack('CCnNN a*', 0x80, $pt, $seq, $ts, $ssrc, $payload // '');
}

sub escape { return "\Q$_[0]\E" }

sub rtpmre {
	my ($pt, $seq, $ts, $ssrc, $xre) = @_;
	my $re = escape(pack('C', 0x80)) . escape(pack('C', $pt));
	$re .= $seq >= 0 ? escape(pack('n', $seq)) : '(..)';
	$re .= $ts >= 0 ? escape(pack('N', $ts)) : '(....)';
	$re .= $ssrc >= 0 ? escape(pack('N', $ssrc)) : '(....)';
	$re .= $xre;
	return qr/^$re$/s;
}

sub rtpm {
	my ($pt, $seq, $ts, $ssrc, $payload, $alt_payload) = @_;
	return rtpmre($pt, $seq, $ts, $ssrc, escape($payload)) unless $alt_payload;
	return rtpmre($pt, $seq, $ts, $ssrc, '(' . escape($payload) . '|' . escape($alt_payload) . ')');
}

sub _recv_wait {
	my ($sock, $timeout) = @_;
	return unless IO::Select->new($sock)->can_read($timeout);
	my $p = '';
	my $sa = $sock->recv($p, 65535, MSG_DONTWAIT);
	return unless defined $sa;
	return ($p, $sa);
}

sub _rcv_check {
	my ($sock, $port, $match, $cb, $cb_arg, $p, $sa) = @_;
	my $from = _peer($sa);
	$last_rcv_from = $from;
	my ($hdr_mark, $pt, $seq, $ts, $ssrc, $payload) = unpack('CCnNN a*', $p);
	$p = $cb->($hdr_mark, $pt, $seq, $ts, $ssrc, $payload, $p, $cb_arg) if $cb;
	my $ok = $tb->like($p, $match, 'received packet matches');
	if (!$ok) {
		$tb->diag(sprintf('received %d bytes from [%s]:%s: %s', length($p), $from ? @$from : ('?', '?'),
			unpack('H*', $p)));
	}
	if ($check_src_port && defined $port && $port > 0) {
		$tb->is_num($from ? $from->[1] : undef, $port, 'packet came from the expected port');
	}
	my @matches = $p =~ $match;
	for my $m (@matches) {
		next unless defined $m;
		if (length($m) == 2) { ($m) = unpack('n', $m) }
		elsif (length($m) == 4) { ($m) = unpack('N', $m) }
	}
	unshift(@matches, $from ? $from->[1] : undef) if defined $port && $port == -1 && @matches;
	return @matches;
}

sub rcv {
	my ($sock, $port, $match, $cb, $cb_arg) = @_;
	my ($p, $sa) = _recv_wait($sock, $rcv_timeout);
	if (!defined $p) {
		$tb->ok(0, 'received packet matches');
		$tb->diag("no packet arrived within $rcv_timeout s on [" . $sock->sockhost . ']:' . $sock->sockport);
		return;
	}
	return _rcv_check($sock, $port, $match, $cb, $cb_arg, $p, $sa);
}

# Like rcv(), but a missing packet is not a failure: returns () without an assertion when
# nothing arrives within the timeout (default 0.5 s); a packet that does arrive must match.
sub rcv_maybe {
	my ($sock, $port, $match, $cb, $cb_arg, $timeout) = @_;
	my ($p, $sa) = _recv_wait($sock, $timeout // 0.5);
	return unless defined $p;
	return _rcv_check($sock, $port, $match, $cb, $cb_arg, $p, $sa);
}

sub rcv_no {
	my ($sock) = @_;
	Time::HiRes::sleep($rcv_no_wait);
	my $p = '';
	my $sa = $sock->recv($p, 65535, MSG_DONTWAIT);
	$tb->ok(!defined $sa, 'no packet received')
		or $tb->diag(sprintf('unexpected %d bytes: %s', length($p), unpack('H*', $p)));
}

sub _no_srtp {
	terminate('SRTP is not implemented in rtpengine-ts perl-compat (see perl-compat/README.md)');
}
sub srtp_snd { _no_srtp() }
sub srtp_rcv { _no_srtp() }
sub srtp_dec { _no_srtp() }

1;
