#!/bin/sh
# The direct-routing cluster of an LVS guide, set up with lvsadm alone, inside the VM: this
# namespace is the director, rs62 and rs63 the real servers, client the client, all on one
# bridge. The lab (bridge, cables, the machines' own addresses, web servers) is built with ip;
# every LVS step is an lvsadm command, printed as it runs.
set -e
ip() { /usr/bin/ip "$@"; }
lvsadm=${LVSADM:-/work/bin/lvsadm}
say() { printf '\n# %s\n' "$*"; }
run() { printf '%s\n' "$ $*" | sed "s|$lvsadm|lvsadm|"; "$@"; }

ip link add br0 type bridge && ip link set br0 up
ip addr add 192.168.88.61/24 dev br0
for host in rs62:192.168.88.62 rs63:192.168.88.63 client:192.168.88.100; do
  ns=${host%%:*} addr=${host#*:}
  ip netns add "$ns"
  ip link add "v-$ns" type veth peer name eth0 netns "$ns"
  ip link set "v-$ns" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
done
for ns in rs62 rs63; do
  mkdir -p "/tmp/www-$ns" && echo "hello from $ns" > "/tmp/www-$ns/index.html"
  ip netns exec "$ns" httpd -p 80 -h "/tmp/www-$ns"
done

say "director: the VIP on br0 (as eth0:3 in the guide), announced by gratuitous ARP"
run "$lvsadm" vip add 192.168.88.60/24 --dev br0:3
run "$lvsadm" vip list
say "director: the virtual service, round robin over two direct-routing real servers"
run "$lvsadm" -A -t 192.168.88.60:80 -s rr
run "$lvsadm" -a -t 192.168.88.60:80 -r 192.168.88.62 -g
run "$lvsadm" -a -t 192.168.88.60:80 -r 192.168.88.63 -g
say "each real server: the VIP on lo, arp_ignore=1, arp_announce=2"
for ns in rs62 rs63; do
  run "$lvsadm" --netns "$ns" realserver setup 192.168.88.60
done
run "$lvsadm" --netns rs62 realserver status

say "the client fetches http://192.168.88.60/ four times"
for i in 1 2 3 4; do
  printf 'fetch %s: ' "$i"
  ip netns exec client timeout 5 wget -q -O - http://192.168.88.60/
done
run "$lvsadm" -L -n
run "$lvsadm" show

say "and back: teardown leaves every address and setting as it was"
for ns in rs62 rs63; do
  run "$lvsadm" --netns "$ns" realserver teardown
done
run "$lvsadm" -C
run "$lvsadm" vip del 192.168.88.60/24 --dev br0
