#!/usr/bin/perl
# perl-compat speaks TAP as rtpengine's own Perl modules do: each script in t/lib/tap-compat/
# (written in rtpengine's auto-daemon-tests style) runs against this daemon twice, once with
# rtpengine's NGCP::Rtpengine::AutoTest & co. first on @INC and once with ours, and the two
# runs must report the same assertions (ok / not ok and name, in order) and both print a plan
# or both end without one. The launcher's own start and exit checks are left out of the
# comparison (rtpengine's preload-library checks, which fail without its LD_PRELOAD library and
# are skips here, and our daemon-exit assertion before the plan).
#
# Needs rtpengine's perl/ directory: RTPENGINE_PERL_LIB=/path/to/rtpengine/perl (and the Perl
# modules it uses; Debian: libsocket6-perl libbencode-perl libjson-perl, and for its
# NGCP::Rtpengine::Test libnet-interface-perl libio-multiplex-perl). Skipped without it.
# RTPE_TAP_COMPARE_SCRIPTS=a.pl:b.pl adds more scripts (rtpengine's own t/auto-daemon-tests-*.pl).

use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use File::Temp ();
use Cwd qw(abs_path);

my $ours = abs_path(dirname(__FILE__) . '/..');
my $theirs = $ENV{RTPENGINE_PERL_LIB};

plan skip_all => 'RTPENGINE_PERL_LIB is not set: point it at a checkout of rtpengine\'s perl/ directory '
	. 'to compare the TAP of perl-compat with that of rtpengine\'s own modules'
	unless $theirs;
plan skip_all => "RTPENGINE_PERL_LIB=$theirs holds no NGCP/Rtpengine/AutoTest.pm"
	unless -f "$theirs/NGCP/Rtpengine/AutoTest.pm";
plan skip_all => 'RTPE_BIN is not set (run through perl-compat/run)' unless $ENV{RTPE_BIN};
$theirs = abs_path($theirs);
{
	my $load = `$^X -I'$theirs' -I'$ours' -e 'use NGCP::Rtpengine::AutoTest; print "loaded"' 2>&1`;
	plan skip_all => "rtpengine's modules in $theirs do not load here: $load" unless $load eq 'loaded';
}

# the launcher's checks, not the script's
my %start_exit = map { $_ => 1 } ('LD_PRELOAD present', 'preload library is active',
	'RTPE_BIN points to executable', 'daemon launched in background', 'ping works, daemon operational',
	'daemon exited cleanly after SIGTERM (no leaks reported)');

# Runs a script with $inc first on @INC; returns its assertions ("ok - name" / "not ok - name"),
# whether it printed a plan, its exit status and the tail of its stderr.
sub run_with {
	my ($inc, $script) = @_;
	my $err = File::Temp->new;
	my $pid = open(my $out, '-|') // die "fork: $!";
	if (!$pid) {
		open(STDERR, '>&', $err) or die;
		exec($^X, "-I$inc", $script) or die "exec: $!";
	}
	my (@asserts, $plan);
	while (my $l = <$out>) {
		chomp $l;
		if ($l =~ /^1\.\.\d+/) { $plan = 1; next }
		my ($st, $desc) = $l =~ /^(not ok|ok)\b\s*\d*\s*(?:-\s*)?(.*)$/ or next;
		next if $start_exit{$desc} || $desc =~ /^# skip (?:no preload library|daemon is running externally)/;
		push(@asserts, "$st - $desc");
	}
	close($out);
	my $status = $?;
	seek($err, 0, 0);
	my @e = <$err>;
	@e = @e[-15 .. -1] if @e > 15;
	return { asserts => \@asserts, plan => $plan, status => $status, stderr => join('', @e) };
}

sub first_difference {
	my ($a, $b) = @_;
	my $n = @$a > @$b ? scalar(@$a) : scalar(@$b);
	for my $i (0 .. $n - 1) {
		my ($x, $y) = ($a->[$i] // '(nothing: the script had ended)', $b->[$i] // '(nothing: the script had ended)');
		next if $x eq $y;
		return "assertion " . ($i + 1) . " (start checks not counted):\n    ours: $x\n  theirs: $y";
	}
	return 'none';
}

my $dir = "$ours/t/lib/tap-compat";
# script => least number of script assertions the run must reach (so that two runs that both
# fail at the start do not count as agreeing)
my @scripts = (
	["$dir/flow.pl", 30],
	["$dir/lost-packet.pl", 6],
	["$dir/sdp-mismatch.pl", 5],
	["$dir/error-reply.pl", 0],
	map { [abs_path($_) // $_, 1] } grep { length } split(/:/, $ENV{RTPE_TAP_COMPARE_SCRIPTS} // ''),
);

for my $s (@scripts) {
	my ($script, $min) = @$s;
	(my $name = $script) =~ s{.*/}{};
	my $r_theirs = run_with($theirs, $script);
	my $r_ours = run_with($ours, $script);
	cmp_ok scalar(@{$r_theirs->{asserts}}), '>=', $min, "$name: rtpengine's modules report $min+ assertions"
		or diag "stderr (tail):\n$r_theirs->{stderr}";
	is_deeply $r_ours->{asserts}, $r_theirs->{asserts},
		"$name: same assertions as with rtpengine's modules (" . scalar(@{$r_theirs->{asserts}}) . ')'
		or diag 'first difference: ' . first_difference($r_ours->{asserts}, $r_theirs->{asserts})
			. "\nours, stderr (tail):\n$r_ours->{stderr}\ntheirs, stderr (tail):\n$r_theirs->{stderr}";
	is !!$r_ours->{plan}, !!$r_theirs->{plan},
		"$name: " . ($r_theirs->{plan} ? 'both print a plan' : 'both end before the plan');
}

done_testing();
