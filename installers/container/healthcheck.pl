# The container's health check: GET /healthz on the port of SNAPKASIR_LISTEN (default 8080),
# healthy on a 200. Plain perl-base (every Debian image has it), so the image needs no curl.
use strict;
use warnings;
use IO::Socket::INET;

my $listen = $ENV{SNAPKASIR_LISTEN} || '0.0.0.0:8080';
my ($port) = $listen =~ /:(\d+)\z/ or die "no port in SNAPKASIR_LISTEN=$listen\n";
my $socket = IO::Socket::INET->new(
    PeerAddr => '127.0.0.1',
    PeerPort => $port,
    Proto    => 'tcp',
    Timeout  => 4,
) or die "cannot connect to 127.0.0.1:$port: $!\n";
$socket->autoflush(1);
print {$socket} "GET /healthz HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n";
my $status = <$socket> // '';
$status =~ m{\AHTTP/\d(?:\.\d)? 200 } or die "unhealthy: $status\n";
exit 0;
