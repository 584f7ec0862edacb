#!/bin/sh
# The guide's cluster with its second director, inside the VM: directors d1 and d2 run lvsd on
# the guide's keepalived.conf (corrected), real servers rs1 and rs2 serve a page naming
# themselves, and the client fetches http://VIP/ while director 1 is stopped and comes back.
# All in network namespaces on one bridge, documentation addresses only.
set -e
ip() { /usr/bin/ip "$@"; }
lvsadm=${LVSADM:-/work/bin/lvsadm} lvsd=${LVSD:-/work/bin/lvsd}
vip=192.0.2.50
say() { printf '\n# %s\n' "$*"; }
run() { printf '%s\n' "$ $*" | sed "s|/work/bin/||g; s|/tmp/demo/||g"; "$@"; }
now() { awk -v t0="$t0" '{ printf "%5.1f s", $1 - t0 }' /proc/uptime; }
holder() {
  for d in d1 d2; do
    [ -n "$(ip -n $d -o addr show to $vip)" ] && { echo "director ${d#d}"; return; }
  done
  echo "nobody"
}
# (No -T: busybox's static wget crashes with it.)
# Fetches the page `count` times, one every 0.3 s, saying who holds the VIP; stops early
# once `until` (a shell test) holds after a fetch.
fetch() {
  count=$1 until=${2:-false}
  while [ "$count" -gt 0 ]; do
    page=$(ip netns exec client timeout 1 wget -q -O - "http://$vip/" 2>/dev/null) ||
      page="(no answer)"
    printf '  %s  fetch: %-12s VIP on %s\n' "$(now)" "$page" "$(holder)"
    eval "$until" && return
    count=$((count - 1))
    sleep 0.3
  done
}
wait_holder() {
  n=100
  while [ "$(holder)" != "$1" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
}

ip link add br0 type bridge && ip link set br0 up
for host in d1:192.0.2.1 d2:192.0.2.2 rs1:192.0.2.11 rs2:192.0.2.12 client:192.0.2.100; do
  ns=${host%%:*} addr=${host#*:}
  ip netns add "$ns"
  ip link add "v-$ns" type veth peer name eth0 netns "$ns"
  ip link set "v-$ns" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
done
for ns in rs1 rs2; do
  mkdir -p "/tmp/www-$ns" && echo "$ns" > "/tmp/www-$ns/index.html"
  ip netns exec "$ns" httpd -p 80 -h "/tmp/www-$ns"
  "$lvsadm" --netns "$ns" realserver setup "$vip" > /dev/null
done

mkdir -p /tmp/demo
conf() {  # $1: state, $2: priority
  cat <<CONF
global_defs {
   router_id LVS_DEVEL
}
vrrp_instance VI_1 {
    state $1
    interface eth0
    virtual_router_id 51
    priority $2
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        $vip/24 dev eth0 label eth0:3
    }
}
virtual_server $vip 80 {
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP
CONF
  for rs in 192.0.2.11 192.0.2.12; do
    printf '    real_server %s 80 {\n        weight 1\n        HTTP_GET {\n            url {\n              path /\n              status_code 200\n            }\n            connect_timeout 1\n            retry 1\n            delay_before_retry 1\n        }\n    }\n' "$rs"
  done
  echo "}"
}
conf MASTER 150 > /tmp/demo/d1.conf
conf BACKUP 100 > /tmp/demo/d2.conf
start() {  # $1: director's namespace
  printf '$ ip netns exec %s lvsd -n -l -G -f %s.conf -p %s.pid &\n' "$1" "$1" "$1"
  ip netns exec "$1" "$lvsd" -n -l -G -f "/tmp/demo/$1.conf" -p "/tmp/demo/$1.pid" \
    --control="/tmp/demo/$1.control" >> "/tmp/demo/$1.log" 2>&1 &
  n=50; while [ ! -s "/tmp/demo/$1.pid" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
}

say "the guide's keepalived.conf, corrected (director 1's VRRP part; director 2: BACKUP, priority 100)"
sed -n '/vrrp_instance/,/^}/p' /tmp/demo/d1.conf
say "real servers rs1, rs2: the VIP on lo, ARP quiet (lvsadm realserver setup $vip)"
say "both directors start lvsd, director 1 first: it becomes master after 3.4 s"
t0=$(awk '{ print $1 }' /proc/uptime)
start d1
wait_holder "director 1"
start d2
say "each director's lvsd programs its own IPVS table (IPVS is per namespace): director 2's"
run "$lvsadm" --netns d2 -L -n
say "the client fetches http://$vip/: round robin over rs1 and rs2, via director 1"
fetch 4

say "stopping director 1 (SIGTERM)..."
run kill -TERM "$(cat /tmp/demo/d1.pid)"
fetch 8

say "director 1 back: it preempts (after its master-down interval, 3.4 s)"
start d1
fetch 25 '[ "$(holder)" = "director 1" ] && [ "$page" != "(no answer)" ]'
fetch 2

say "what the directors logged"
for d in d1 d2; do
  grep -h "Entering" "/tmp/demo/$d.log" | sed "s/^/  director ${d#d}: /"
done
for d in d1 d2; do kill -TERM "$(cat /tmp/demo/$d.pid)" 2>/dev/null || true; done
