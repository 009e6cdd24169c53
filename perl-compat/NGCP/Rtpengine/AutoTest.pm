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
#
# The TAP a script prints is the TAP rtpengine's own module prints for it: every exported
# function makes the same assertions, with the same names, in the same order, and ends the script
# where rtpengine's does (a reply with result=error to rtpe_req, a packet that does not arrive,
# a send that fails). perl-compat/t/10-tap-compat.t checks this against rtpengine's modules.
# What is ours only: the launcher's start checks (the two preload checks are skips here), the
# daemon-exit assertion before done_testing's plan, and leak_check() when a script calls it.

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
use NGCP::Rtpclient::SRTP;
use Exporter 'import';

# rtpengine's export list, name for name (a script may define subs of any other name)
our @EXPORT = qw(autotest_start new_call new_call_nc offer answer ft tt cid snd snd_no srtp_snd rtp
	rcv srtp_rcv rcv_no rcv_maybe srtp_dec escape rtpm rtpmre reverse_tags new_ft new_tt crlf sdp_split
	rtpe_req offer_answer autotest_init subscribe_request subscribe_answer publish create
	create_answer use_json rtpe_raw_req last_resp);
our @EXPORT_OK = qw(leak_check sdp_regex sdp_match sdp_partial_captures rtpe_client daemon_pid
	stop_daemon terminate exts);
our %EXPORT_TAGS = (all => [@EXPORT, @EXPORT_OK]);

our $launch_cb;                 # called once the daemon is launched (rtpengine compatibility)
our $host;                      # overrides RTPENGINE_HOST / 127.0.0.1
our $port;                      # overrides RTPENGINE_PORT / the -n option / 2223
our $rcv_timeout = $ENV{RTPE_TEST_RCV_TIMEOUT} // 1;     # seconds rcv() waits (rtpengine: alarm(1))
our $rcv_no_wait = $ENV{RTPE_TEST_RCV_NO_WAIT} // 0.1;   # seconds rcv_no()/rcv_maybe() wait first
our $req_timeout = $ENV{RTPE_TEST_REQ_TIMEOUT} // 3;     # seconds an ng request may take (rtpengine: alarm(3))
our $last_rcv_from;             # [address, port] of the last packet rcv() got
our $stop_timeout = $ENV{RTPE_TEST_STOP_TIMEOUT} // 15; # seconds to wait for the daemon to exit

my $tb = Test::Builder->new;
my ($c, $rtpe_pid, $rtpe_stdout, $rtpe_stderr, $daemon_checked);
my ($cid, $ft, $tt, @sockets, $tag_iter, $tag_suffix, $last_resp);
$tag_iter = 0;
$tag_suffix = '-' . $0 . '-' . rand();

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
		return ({ fh => $o, name => $out }, { fh => $e, name => $err });
	}
	my $o = File::Temp->new(TEMPLATE => "rtpe-out.$base.XXXXXXXX", TMPDIR => 1);
	my $e = File::Temp->new(TEMPLATE => "rtpe-err.$base.XXXXXXXX", TMPDIR => 1);
	return ({ fh => $o, name => $o->filename, tmp => $o }, { fh => $e, name => $e->filename, tmp => $e });
}

# Assertions as rtpengine's: two preload-library checks (skipped: the launcher's network
# namespace replaces rtpengine's LD_PRELOAD library), the executable, the launch. The ping that
# follows is not an assertion (rtpengine's is not either).
sub autotest_start {
	my (@cmdline) = @_;

	$port //= $ENV{RTPENGINE_PORT} // _ng_port_from_cmdline(@cmdline);

	$tb->skip('no preload library: rtpengine-ts runs in a network namespace') for 1 .. 2;

	if ($ENV{RTPE_TEST_NO_LAUNCH}) {
		$tb->skip('daemon is running externally') for 1 .. 2;
		$launch_cb->() if $launch_cb;
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
	$launch_cb->() if $launch_cb;
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

# Waits (30 s at most) until the daemon answers 'ping'. No assertion either way, as in
# rtpengine; a daemon that never answers ends the script here with the reason.
sub autotest_init {
	my $h = $host // $ENV{RTPENGINE_HOST} // '127.0.0.1';
	my $p = $port // $ENV{RTPENGINE_PORT} // 2223;
	$c = NGCP::Rtpengine->new($h, $p, timeout => 0.1, retries => 0);
	$c->{socket} or terminate("cannot create control socket to $h:$p: $c->{socket_error}");

	$tag_iter = 0;
	$tag_suffix = '-' . $0 . '-' . rand();

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
	$pong or terminate("daemon at $h:$p does not answer 'ping'");
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
	my ($status, $killed) = _stop($rtpe_pid);
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

# SIGTERM, wait, SIGKILL after $stop_timeout; returns (wait status, killed?)
sub _stop {
	my ($pid) = @_;
	kill('TERM', $pid);
	my $deadline = Time::HiRes::time() + $stop_timeout;
	while (Time::HiRes::time() < $deadline) {
		my $r = waitpid($pid, WNOHANG);
		return ($?, 0) if $r == $pid;
		return (0, 0) if $r < 0;
		Time::HiRes::sleep(0.05);
	}
	kill('KILL', $pid);
	waitpid($pid, 0);
	return ($?, 1);
}

sub _keep_logs {
	for my $f ($rtpe_stdout, $rtpe_stderr) {
		next unless $f;
		$f->{tmp}->unlink_on_destroy(0) if $f->{tmp};
	}
	$tb->diag("hint: rtpe stdout output is at $rtpe_stdout->{name}") if $rtpe_stdout;
	$tb->diag("hint: rtpe stderr output is at $rtpe_stderr->{name}") if $rtpe_stderr;
}

# Ends the script, as rtpengine's terminate() does (die), after pointing at the daemon's logs.
sub terminate {
	my ($msg) = @_;
	$msg =~ s/\n+\z//;
	_keep_logs();
	$tb->diag("daemon stderr (tail):\n" . _tail($rtpe_stderr, 20)) if $rtpe_stderr;
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
		# the plan is already out, or the script ended early: report through the exit status
		my $exit = $?;
		$daemon_checked = 1;
		my ($status, $killed) = _stop($rtpe_pid);
		$rtpe_pid = undef;
		if ($killed || $status != 0) {
			print STDERR "# daemon did not exit cleanly after SIGTERM (status $status)\n";
			_keep_logs();
			$exit ||= 255;
		}
		$? = $exit;
	}
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

# An error reply as rtpe_raw_req() hands it back: rtpengine's returns the client's die message
# there ('Error reason: "..."', which scripts match with like()); this one is that string when
# used as a string and still the reply hash when used as one.
{
	package NGCP::Rtpengine::AutoTest::ErrorReply;
	use overload '""' => sub { 'Error reason: "' . ($_[0]{'error-reason'} // '') . '"' },
		'bool' => sub { 1 }, fallback => 1;
}

# Sends a request and returns the reply without asserting anything.
#   rtpe_raw_req(\%req)               - rtpengine's form: the hash is sent exactly as given
#   rtpe_raw_req($cmd, $name, \%req)  - ours: sets command and call-id (//= cid) like rtpe_req
# An error reply comes back as a hash that reads as 'Error reason: "..."' in string context.
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
	if (ref($resp) eq 'HASH' && ($resp->{result} // '') eq 'error') {
		bless $resp, 'NGCP::Rtpengine::AutoTest::ErrorReply';
	}
	return $resp;
}

# One assertion, "$name - '$cmd' status" (result is 'ok'). As in rtpengine, a reply with
# result=error, or none at all, ends the script instead (no assertion).
sub rtpe_req {
	my ($cmd, $name, $req) = @_;
	$req->{command} = $cmd;
	$req->{'call-id'} //= $cid;
	my ($resp, $err) = _send_req($req);
	if (!$resp) {
		my $gone = _daemon_gone();
		$err .= " (daemon has exited with status $gone->[0])" if $gone;
		terminate("'$cmd' request failed ($err)");
	}
	if (ref($resp) eq 'HASH' && ($resp->{result} // '') eq 'error') {
		terminate("'$cmd' request failed (Error reason: \"" . ($resp->{'error-reason'} // '') . '")');
	}
	my $r = ref($resp) eq 'HASH' ? $resp : { result => undef };
	$last_resp = $r;
	$tb->is_eq($r->{result}, 'ok', "$name - '$cmd' status");
	return $r;
}

# The reply to the last rtpe_req (so to the last offer, answer, ...): scripts read reply keys
# beyond the SDP from it.
sub last_resp { return $last_resp }

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
	[ 'BGROUPS'        => '([\d ]+)' ],
	[ 'PORT'           => '(\d{1,5})' ],
);
my %ph = map { @$_ } @placeholders;
my $ph_re = join('|', map { $_->[0] } @placeholders);

# Turns an expected-SDP text into the regex source that sdp_match() applies.
sub sdp_regex {
	my ($exp) = @_;
	my $re = '';
	for my $piece (split(/($ph_re|\?)/, $exp // '')) {
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
# many elements as a full match would have had, in the same order. Only a diagnostic aid:
# sdp_match() itself returns nothing on a mismatch, as rtpengine's does.
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

# One assertion, "$name - output '$cmd' SDP"; returns the placeholder captures, or nothing when
# the SDP does not match (rtpengine's behaviour: a later snd() to a missing port ends the script).
sub sdp_match {
	my ($cmd, $name, $sdp, $exp) = @_;
	$exp //= '';
	my $regexp = sdp_regex($exp);
	my $got = crlf($sdp // '');
	my @matches = $got =~ qr/$regexp/s;
	my $ok = $tb->ok(scalar(@matches), "$name - output '$cmd' SDP");
	return @matches if $ok;
	$tb->diag(_first_difference($got, $exp));
	$tb->diag("got SDP:\n$got");
	$tb->diag("expected SDP:\n$exp");
	my @partial = sdp_partial_captures($got, $exp);
	$tb->diag('captures found line by line (not returned): '
		. join(', ', map { defined $_ ? $_ : 'undef' } @partial)) if @partial;
	return;
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

# create: the daemon generates an offer from scratch; returns the reply's call-id and from-tag,
# then the placeholder captures (tags are the request's own: none are filled in).
sub create {
	my ($name, $req, $sdp_exp) = @_;
	my $resp = rtpe_req('create', $name, $req);
	my @matches = sdp_match('create', $name, $resp->{sdp}, $sdp_exp);
	return ($resp->{'call-id'}, $resp->{'from-tag'}, @matches);
}

sub create_answer {
	my ($name, $req, $sdp) = @_;
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
		my $a6 = inet_pton(AF_INET6, $addr) or terminate("bad IPv6 address '$addr'");
		return pack_sockaddr_in6($p, $a6);
	}
	my $a4 = inet_pton(AF_INET, $addr) or terminate("bad IPv4 address '$addr'");
	return pack_sockaddr_in($p, $a4);
}

# rtpengine always sends to 203.0.113.1 (IPv4 only); an IPv6 socket here goes to 2001:db8:4321::1.
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

sub _send {
	my ($sock, $dest, $packet, $addr) = @_;
	defined $dest && $dest =~ /^\d+$/ && $dest > 0
		or return (undef, 'no usable destination port (' . (defined $dest ? "'$dest'" : 'undef')
			. '); was it captured from an SDP reply that did not match?');
	$addr //= _default_dest($sock);
	my $r = $sock->send($packet, 0, _sockaddr($addr, $dest));
	return ($r, "sending to [$addr]:$dest failed: $!");
}

# No assertion; a send that fails (or has no port to go to) ends the script, as rtpengine's does.
sub snd {
	my ($sock, $dest, $packet, $addr) = @_;
	my ($r, $err) = _send($sock, $dest, $packet, $addr);
	$r or terminate("snd: $err");
	return $r;
}

# One assertion, "send to closed port fails": the send must be refused.
sub snd_no {
	my ($sock, $dest, $packet, $addr) = @_;
	my ($r) = _send($sock, $dest, $packet, $addr);
	return $tb->ok(!$r, 'send to closed port fails');
}

# RTP header extension block (RFC 8285) for rtp()/rtpm(): [[id, data], ...]. The one-byte form
# (0xBEDE) takes ids below 16 with 1-16 bytes of data (and [0, ''] as a padding entry); anything
# else needs the two-byte form (0x1000). Padded with zero bytes to a multiple of 4. The bytes are
# the ones rtpengine's helper produces for the same list, so the same rtpm() patterns match.
sub exts {
	my ($list) = @_;
	return '' unless $list && @$list;
	my $two_byte = grep { my ($id, $data) = @$_;
		$id >= 16 || length($data) > 16 || (length($data) == 0 && $id != 0) } @$list;
	my $body = '';
	for my $x (@$list) {
		my ($id, $data) = @$x;
		# one-byte form: id in the high nibble, length - 1 in the low one (a padding entry's -1
		# sets every bit, as in rtpengine's)
		$body .= $two_byte ? pack('CC', $id, length($data)) . $data
			: pack('C', (($id << 4) | (length($data) - 1)) & 0xff) . $data;
	}
	$body .= "\0" x ((4 - length($body) % 4) % 4);
	return pack('n n', $two_byte ? 0x1000 : 0xbede, length($body) / 4) . $body;
}

sub rtp {
	my ($pt, $seq, $ts, $ssrc, $payload, $ext_list) = @_;
	$ext_list //= [];
	my $n = scalar(@$ext_list);
	print("rtp in $pt $seq $ts $ssrc $n exts\n");
	my $x = exts($ext_list);
	return pack('CCnNN', $x ? 0x90 : 0x80, $pt, $seq, $ts, $ssrc) . $x . ($payload // '');
}

sub escape { return "\Q$_[0]\E" }

sub rtpmre {
	my ($pt, $seq, $ts, $ssrc, $xre, $ext_list) = @_;
	my $x = exts($ext_list);
	my $re = escape(pack('C', $x ? 0x90 : 0x80)) . escape(pack('C', $pt));
	$re .= $seq >= 0 ? escape(pack('n', $seq)) : '(..)';
	$re .= $ts >= 0 ? escape(pack('N', $ts)) : '(....)';
	$re .= $ssrc >= 0 ? escape(pack('N', $ssrc)) : '(....)';
	# the extension block goes into the pattern as it is, as rtpengine's matcher does
	$re .= $x . $xre;
	return qr/^$re$/s;
}

# rtpm(pt, seq, ts, ssrc, payload[, alt_payload][, [extensions]]); an array ref in place of
# alt_payload is the extension list.
sub rtpm {
	my ($pt, $seq, $ts, $ssrc, $payload, $alt_payload, $ext_list) = @_;
	($ext_list, $alt_payload) = ($alt_payload, undef) if ref($alt_payload) eq 'ARRAY';
	return rtpmre($pt, $seq, $ts, $ssrc, escape($payload), $ext_list) unless $alt_payload;
	return rtpmre($pt, $seq, $ts, $ssrc, '(' . escape($payload) . '|' . escape($alt_payload) . ')',
		$ext_list);
}

# Waits up to $timeout for one datagram: (packet, peer sockaddr), or () when none came.
sub _recv_wait {
	my ($sock, $timeout) = @_;
	return unless IO::Select->new($sock)->can_read($timeout);
	my $p = '';
	my $sa = $sock->recv($p, 65535, MSG_DONTWAIT);
	return unless defined $sa;
	return ($p, $sa);
}

# rcv(sock, port, match[, cb, cb_arg]) as rtpengine's: a packet that does not arrive within
# $rcv_timeout ends the script (rtpengine: alarm -> die -> terminate). Otherwise two assertions,
# "received packet matches (<caller>)" and, unless port is -1, "receive port matches (<caller>)"
# (the packet's source port is the relay port the script expects it from); <caller> is the
# calling package, file and line. Returns the match's captures (2- and 4-byte ones unpacked as
# 16/32-bit numbers); with port -1 the packet's source port and address come first.
sub rcv {
	my ($sock, $port, $match, $cb, $cb_arg) = @_;
	my @caller = caller;
	my ($p, $sa) = _recv_wait($sock, $rcv_timeout);
	defined $p or terminate("recv timed out: no packet within $rcv_timeout s on ["
		. $sock->sockhost . ']:' . $sock->sockport . " (at $caller[1] line $caller[2])");
	my $from = _peer($sa) or terminate('rcv: packet from an unknown address family');
	$last_rcv_from = $from;
	my ($hdr_mark, $pt, $seq, $ts, $ssrc, $payload) = unpack('CCnNN a*', $p);
	$p = $cb->($hdr_mark, $pt, $seq, $ts, $ssrc, $payload, $p, $cb_arg) if $cb;
	if ($p !~ $match) {
		print('rtp recv ' . join(' ', map { $_ // '' } $pt, $seq, $ts, $ssrc) . ' '
			. unpack('H*', $payload // '') . "\n" . unpack('H*', $p) . "\n");
	}
	$tb->like($p, $match, "received packet matches (@caller)");
	my @matches = $p =~ $match;
	for my $m (@matches) {
		next unless defined $m;
		if (length($m) == 2) { ($m) = unpack('n', $m) }
		elsif (length($m) == 4) { ($m) = unpack('N', $m) }
	}
	if (!defined $port || $port != -1) {
		# argument order as rtpengine's (got: the script's port, expected: the packet's)
		$tb->is_eq($port, $from->[1], "receive port matches (@caller)");
	}
	elsif (@matches) {
		unshift(@matches, $from->[1], $from->[0]);
	}
	return @matches;
}

# One assertion, "no packet received (<caller>)", after waiting $rcv_no_wait.
sub rcv_no {
	my ($sock) = @_;
	my @caller = caller;
	Time::HiRes::sleep($rcv_no_wait);
	my $p = '';
	my $sa = $sock->recv($p, 65535, MSG_DONTWAIT);
	$tb->ok(!defined $sa, "no packet received (@caller)")
		or $tb->diag(sprintf('unexpected %d bytes: %s', length($p), unpack('H*', $p)));
}

# One assertion that always passes, "whatever packet received or not": waits $rcv_no_wait and
# takes one pending packet off the socket, if there is one.
sub rcv_maybe {
	my ($sock) = @_;
	Time::HiRes::sleep($rcv_no_wait);
	my $p = '';
	$sock->recv($p, 65535, MSG_DONTWAIT);
	return $tb->ok(1, 'whatever packet received or not');
}

# SRTP through NGCP::Rtpclient::SRTP (a placeholder in perl-compat: these die with its
# "not implemented" message until it exists). srtp_rcv asserts "SRTP auth tag matches" before
# rcv's two assertions, as rtpengine's does.
sub _srtp_keys {
	my ($ctx) = @_;
	return if $ctx->{skey};
	my ($key, $salt) = NGCP::Rtpclient::SRTP::decode_inline_base64($ctx->{key}, $ctx->{cs});
	@$ctx{qw(skey sauth ssalt)} = NGCP::Rtpclient::SRTP::gen_rtp_session_keys($key, $salt);
}

sub srtp_snd {
	my ($sock, $dest, $packet, $ctx, $addr) = @_;
	_srtp_keys($ctx);
	my ($enc, $roc) = NGCP::Rtpclient::SRTP::encrypt_rtp(@$ctx{qw(cs skey ssalt sauth roc)}, '', 0, 0, 0,
		$packet);
	$ctx->{roc} = $roc;
	return snd($sock, $dest, $enc, $addr);
}

sub srtp_dec {
	my ($hdr_mark, $pt, $seq, $ts, $ssrc, $payload, $pack, $ctx) = @_;
	_srtp_keys($ctx);
	my ($dec, $roc, $tag, $hmac) = NGCP::Rtpclient::SRTP::decrypt_rtp(@$ctx{qw(cs skey ssalt sauth roc)}, $pack);
	$ctx->{roc} = $roc;
	$tb->is_eq($tag, substr($hmac // '', 0, length($tag // '')), 'SRTP auth tag matches');
	return $dec;
}

sub srtp_rcv {
	my ($sock, $port, $match, $ctx) = @_;
	return rcv($sock, $port, $match, \&srtp_dec, $ctx);
}

1;
