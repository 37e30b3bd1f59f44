#!/bin/sh
# Writes the nginx configuration with this container's DNS server (a read-only root is fine: it
# goes to /tmp) and runs nginx in the foreground.
set -eu
resolver=${INGRESS_RESOLVER:-$(awk '/^nameserver/ { print $2; exit }' /etc/resolv.conf)}
case $resolver in *:*) resolver="[$resolver]" ;; esac
sed "s/@RESOLVER@/$resolver/" /etc/nginx/nginx.conf.template >/tmp/nginx.conf
nginx -t -c /tmp/nginx.conf -q
exec nginx -c /tmp/nginx.conf -g 'daemon off;'
