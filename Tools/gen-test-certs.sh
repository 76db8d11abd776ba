#!/usr/bin/env bash
# Makes a throwaway certificate authority and certificates for trying TLS locally and for
# the TLS tests: never for production.
#
#   Tools/gen-test-certs.sh [DIR]     (default: tls-test-certs, ignored by git)
#
# DIR gets:
#   ca.crt / ca.key           the authority (self-signed, 10 years)
#   server.crt / server.key   for the server: DNS localhost and IP 127.0.0.1 / ::1 as
#                             subject alternative names, so that clients that check the
#                             host name (redis-py 6+, redis-cli) accept 127.0.0.1
#   client.crt / client.key   for clients, when the server asks for a certificate
#   other-ca.crt              an unrelated authority, to show a wrong CA being refused
# Keys are RSA 2048 without a passphrase; an existing DIR is overwritten file by file.
set -euo pipefail

dir=${1:-tls-test-certs}
mkdir -p "$dir"
cd "$dir"
days=3650

make_key() { openssl genrsa -out "$1" 2048 2>/dev/null; chmod 600 "$1"; }

# The authority.
make_key ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/O=Strata test/CN=Strata test CA" -out ca.crt

# A certificate signed by the authority: sign NAME "SUBJECT" EXTENSIONS
sign() {
    local name=$1 subject=$2 extensions=$3
    make_key "$name.key"
    openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
    printf '%b' "$extensions" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -sha256 \
        -extfile "$name.ext" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

sign server "/O=Strata test/CN=localhost" \
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
sign client "/O=Strata test/CN=client" \
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"

# An authority that signed none of the above.
make_key other-ca.key
openssl req -x509 -new -key other-ca.key -sha256 -days "$days" -subj "/O=Elsewhere/CN=Other CA" -out other-ca.crt
rm -f other-ca.key ca.srl

openssl verify -CAfile ca.crt server.crt client.crt >/dev/null
echo "certificates in $(pwd): ca.crt server.crt/key client.crt/key other-ca.crt"
