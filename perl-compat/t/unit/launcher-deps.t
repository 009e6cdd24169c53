#!/usr/bin/perl
# perl-compat/run --check-deps: names the Test2:: modules a script uses that are not installed
# (rtpengine's auto-daemon-tests.pl needs Test2::Tools::Compare), without making a namespace.
use strict;
use warnings;
use Test::More;
use File::Temp ();
use File::Basename ();
use File::Spec ();

my $run = File::Spec->catfile(File::Basename::dirname(__FILE__), '..', '..', 'run');
ok -x $run, 'launcher is executable';

sub check {
	my ($text) = @_;
	my $f = File::Temp->new(SUFFIX => '.pl');
	print $f $text;
	close $f;
	my $out = `'$run' --check-deps '$f' 2>&1`;
	return ($? >> 8, $out);
}

my ($rc, $out) = check("use strict;\nuse Test2::Surely::Not::Installed::Xyzzy qw();\nuse Test::More;\n");
is $rc, 1, 'missing Test2 module: exit 1';
like $out, qr/uses Test2::Surely::Not::Installed::Xyzzy, which is not installed.*libtest2-suite-perl/,
	'missing Test2 module named, with the Debian package';

($rc, $out) = check("use strict;\nuse Test::More;\n");
is $rc, 0, 'no Test2 module used: exit 0';
is $out, '', 'no Test2 module used: silent';

SKIP: {
	skip 'Test2::API not installed', 2 unless eval { require Test2::API; 1 };
	($rc, $out) = check("use Test2::API qw();\n");
	is $rc, 0, 'installed Test2 module: exit 0';
	is $out, '', 'installed Test2 module: silent';
}

done_testing();
