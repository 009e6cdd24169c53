package NGCP::Rtpengine::Bencode;

# Small, dependency-free bencode codec for the ng control protocol.
#
#   encode: hash refs -> dictionaries (keys sorted bytewise), array refs -> lists,
#           scalars -> integers when Perl holds them as numbers (not strings) and they are
#           whole numbers, otherwise byte strings. Wrap a value with bint()/bstr() to force
#           its type. Character strings are written as UTF-8 bytes.
#   decode: dictionaries -> hash refs, lists -> array refs, integers -> numbers, byte strings
#           -> byte strings. Dictionary keys may arrive in any order (rtpengine does not sort).

use strict;
use warnings;
use B ();
use Exporter 'import';

our @EXPORT_OK = qw(bencode bdecode bint bstr);

my $HAS_CREATED_AS_NUMBER = eval { require builtin; defined &builtin::created_as_number };

sub bint { my ($v) = @_; return bless \(my $x = $v), 'NGCP::Rtpengine::Bencode::Int' }
sub bstr { my ($v) = @_; return bless \(my $x = $v), 'NGCP::Rtpengine::Bencode::Str' }

sub _is_number {
	my ($v) = @_;
	if ($HAS_CREATED_AS_NUMBER) {
		no warnings;
		return builtin::created_as_number($v);
	}
	my $flags = B::svref_2object(\$v)->FLAGS;
	return 0 if $flags & B::SVf_POK();
	return ($flags & (B::SVf_IOK() | B::SVf_NOK())) ? 1 : 0;
}

sub _enc_str {
	my ($s) = @_;
	utf8::encode($s) if utf8::is_utf8($s);
	return length($s) . ':' . $s;
}

sub _enc_int {
	my ($n) = @_;
	$n =~ /^-?\d+$/ or die "bencode: '$n' is not an integer\n";
	$n =~ s/^(-?)0+(?=\d)/$1/;
	$n = '0' if $n eq '-0';
	return "i${n}e";
}

sub bencode {
	my ($v) = @_;
	die "bencode: cannot encode undef\n" unless defined $v;
	my $r = ref($v);
	if ($r eq 'HASH') {
		my $out = 'd';
		for my $k (sort { my ($x, $y) = ($a, $b); utf8::encode($x) if utf8::is_utf8($x);
				utf8::encode($y) if utf8::is_utf8($y); $x cmp $y } keys %$v) {
			next unless defined $v->{$k};
			$out .= _enc_str($k) . bencode($v->{$k});
		}
		return $out . 'e';
	}
	if ($r eq 'ARRAY') {
		return 'l' . join('', map { bencode($_) } @$v) . 'e';
	}
	if ($r eq 'NGCP::Rtpengine::Bencode::Int') { return _enc_int($$v) }
	if ($r eq 'NGCP::Rtpengine::Bencode::Str') { return _enc_str("$$v") }
	if ($r eq 'SCALAR') { return bencode($$v) }
	if ($r eq 'JSON::PP::Boolean' || $r eq 'JSON::XS::Boolean' || $r eq 'Types::Serialiser::Boolean') {
		return _enc_int($v ? 1 : 0);
	}
	die "bencode: cannot encode a $r reference\n" if $r;
	if (_is_number($v) && $v =~ /^-?\d+$/) { return _enc_int($v) }
	return _enc_str("$v");
}

sub bdecode {
	my ($s) = @_;
	die "bdecode: undefined input\n" unless defined $s;
	utf8::downgrade($s, 1) or die "bdecode: input contains wide characters\n";
	my $pos = 0;
	my $v = _dec(\$s, \$pos, 0);
	$pos == length($s) or die "bdecode: trailing data at offset $pos\n";
	return $v;
}

sub _dec {
	my ($sr, $pr, $depth) = @_;
	die "bdecode: nesting too deep at offset $$pr\n" if $depth > 100;
	my $len = length($$sr);
	die "bdecode: unexpected end of data at offset $$pr\n" if $$pr >= $len;
	my $c = substr($$sr, $$pr, 1);
	if ($c eq 'i') {
		pos($$sr) = $$pr;
		$$sr =~ /\Gi(-?(?:0|[1-9]\d*))e/gc or die "bdecode: bad integer at offset $$pr\n";
		$$pr = pos($$sr);
		return 0 + $1;
	}
	if ($c eq 'l') {
		$$pr++;
		my @l;
		while (1) {
			die "bdecode: unterminated list\n" if $$pr >= $len;
			if (substr($$sr, $$pr, 1) eq 'e') { $$pr++; last }
			push @l, _dec($sr, $pr, $depth + 1);
		}
		return \@l;
	}
	if ($c eq 'd') {
		$$pr++;
		my %d;
		while (1) {
			die "bdecode: unterminated dictionary\n" if $$pr >= $len;
			if (substr($$sr, $$pr, 1) eq 'e') { $$pr++; last }
			substr($$sr, $$pr, 1) =~ /\d/ or die "bdecode: dictionary key is not a string at offset $$pr\n";
			my $k = _dec($sr, $pr, $depth + 1);
			$d{$k} = _dec($sr, $pr, $depth + 1);
		}
		return \%d;
	}
	if ($c =~ /\d/) {
		pos($$sr) = $$pr;
		$$sr =~ /\G(0|[1-9]\d*):/gc or die "bdecode: bad string length at offset $$pr\n";
		my $n = $1;
		my $start = pos($$sr);
		die "bdecode: string of $n bytes runs past end of data at offset $$pr\n" if $start + $n > $len;
		$$pr = $start + $n;
		return substr($$sr, $start, $n);
	}
	die "bdecode: unexpected character '$c' at offset $$pr\n";
}

1;
