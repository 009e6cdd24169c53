package NGCP::Rtpclient::DTLS;

# Placeholder so that scripts written for sipwise rtpengine, which load this module at the top,
# compile under rtpengine-ts perl-compat. Its functionality is not implemented here (see
# perl-compat/README.md); calling any of its functions dies with a clear message.

use strict;
use warnings;

our $AUTOLOAD;

sub AUTOLOAD {
	my $name = $AUTOLOAD;
	$name =~ s/.*:://;
	return if $name eq 'DESTROY';
	die "NGCP::Rtpclient::DTLS::$name is not implemented in rtpengine-ts perl-compat\n";
}

1;
