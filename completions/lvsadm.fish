# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_lvsadm_global_optspecs
    string join \n netns= A/add-service E/edit-service D/delete-service C/clear R/restore S/save a/add-server e/edit-server d/delete-server L/list Z/zero set= start-daemon= stop-daemon= h/help v/version t/tcp-service= u/udp-service= sctp-service= f/fwmark-service= 6/ipv6 s/scheduler= pe= p/persistent= M/netmask= r/real-server= g/gatewaying i/ipip m/masquerading tun-type= tun-port= tun-nocsum tun-csum tun-remcsum w/weight= x/u-threshold= y/l-threshold= c/connection timeout daemon stats rate X/exact thresholds persistent-conn tun-info nosort sort o/ops n/numeric b/sched-flags= syncid= sync-maxlen= mcast-interface= mcast-group= mcast-port= mcast-ttl= atomic
end

function __fish_lvsadm_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_lvsadm_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_lvsadm_using_subcommand
    set -l cmd (__fish_lvsadm_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c lvsadm -n "__fish_lvsadm_needs_command" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l set -d 'set connection timeout values' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l start-daemon -d 'start connection sync daemon' -r -f -a "master\t''
backup\t''"
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l stop-daemon -d 'stop connection sync daemon' -r -f -a "master\t''
backup\t''"
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s t -l tcp-service -d 'service-address is host[:port]' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s u -l udp-service -d 'service-address is host[:port]' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l sctp-service -d 'service-address is host[:port]' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s f -l fwmark-service -d 'fwmark is an integer greater than zero' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s s -l scheduler -d 'one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh, the default scheduler is wlc.' -r -f -a "rr\t''
wrr\t''
lc\t''
wlc\t''
lblc\t''
lblcr\t''
dh\t''
sh\t''
sed\t''
nq\t''
fo\t''
ovf\t''
mh\t''
twos\t''"
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l pe -d 'alternate persistence engine may be sip, not set by default.' -r -f -a "sip\t''"
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s p -l persistent -d 'persistent service' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s M -l netmask -d 'persistent granularity mask' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s r -l real-server -d 'server-address is host (and port)' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l tun-type -d 'one of ipip|gue|gre, the default tunnel type is ipip.' -r -f -a "ipip\t''
gue\t''
gre\t''"
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l tun-port -d 'tunnel destination port' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s w -l weight -d 'capacity of real server' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s x -l u-threshold -d 'upper threshold of connections' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s y -l l-threshold -d 'lower threshold of connections' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s b -l sched-flags -d 'scheduler flags (comma-separated)' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l syncid -d 'syncid for connection sync (default=255)' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l sync-maxlen -d 'Max sync message length (default=1472)' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l mcast-interface -d 'multicast interface for connection sync' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l mcast-group -d 'IPv4/IPv6 group (default=224.0.0.81)' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l mcast-port -d 'UDP port (default=8848)' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l mcast-ttl -d 'Multicast TTL (default=1)' -r
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s A -l add-service -d 'add virtual service with options'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s E -l edit-service -d 'edit virtual service with options'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s D -l delete-service -d 'delete virtual service'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s C -l clear -d 'clear the whole table'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s R -l restore -d 'restore rules from stdin'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s S -l save -d 'save rules to stdout'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s a -l add-server -d 'add real server with options'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s e -l edit-server -d 'edit real server with options'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s d -l delete-server -d 'delete real server'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s L -s l -l list -d 'list the table'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s Z -l zero -d 'zero counters in a service or all services'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s h -l help -d 'display this help message'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s v -l version -d 'display the version'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s 6 -l ipv6 -d 'fwmark entry uses IPv6'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s g -l gatewaying -d 'gatewaying (direct routing) (default)'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s i -l ipip -d 'ipip encapsulation (tunneling)'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s m -l masquerading -d 'masquerading (NAT)'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l tun-nocsum -d 'tunnel encapsulation without checksum'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l tun-csum -d 'tunnel encapsulation with checksum'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l tun-remcsum -d 'tunnel encapsulation with remote checksum'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s c -l connection -d 'output of current IPVS connections'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l timeout -d 'output of timeout (tcp tcpfin udp)'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l daemon -d 'output of daemon information'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l stats -d 'output of statistics information'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l rate -d 'output of rate information'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s X -l exact -d 'expand numbers (display exact values)'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l thresholds -d 'output of thresholds information'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l persistent-conn -d 'output of persistent connection info'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l tun-info -d 'output of tunnel information'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l nosort -d 'disable sorting output of service/server entries'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l sort -d 'does nothing, for backwards compatibility'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s o -l ops -d 'one-packet scheduling'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -s n -l numeric -d 'numeric output of addresses and ports'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -l atomic -d 'with -R: if the kernel refuses a line, undo the restore\'s changes'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -f -a "apply" -d 'Make the table equal to a rules file, changing only what differs'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -f -a "diff" -d 'Print the changes apply would make, as ipvsadm command lines'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -f -a "show" -d 'The table for people: weights, connections and rates'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -f -a "vip" -d 'A director\'s VIPs, announced to the neighbours'
complete -c lvsadm -n "__fish_lvsadm_needs_command" -f -a "realserver" -d 'A real server\'s set-up for direct routing, tunnelling or NAT'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand apply" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand apply" -l dry-run -d 'Print the changes as ipvsadm command lines instead of making them'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand diff" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand show" -l watch -d 'Redraw every SECONDS (default 2) in place, like top; with --json, a document a line' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand show" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand show" -l json -d 'JSON for machines, with full 64-bit counters (schema: docs/show.schema.json)'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand show" -l prometheus -d 'Prometheus\'s text format, for node_exporter\'s textfile collector: 64-bit counters, rates, weights and connections per service and destination'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and not __fish_seen_subcommand_from add del list" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and not __fish_seen_subcommand_from add del list" -f -a "add" -d 'Add a VIP (quietly nothing if it is there), announce it, and optionally turn on forwarding'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and not __fish_seen_subcommand_from add del list" -f -a "del" -d 'Delete a VIP (quietly nothing if it is not there)'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and not __fish_seen_subcommand_from add del list" -f -a "list" -d 'List the VIPs added with lvsadm and whether they are in place'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and __fish_seen_subcommand_from add" -l dev -d 'The interface; the alias form eth0:3 means eth0 with label eth0:3' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and __fish_seen_subcommand_from add" -l label -d 'An IPv4 label, beginning with the device name' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and __fish_seen_subcommand_from add" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and __fish_seen_subcommand_from add" -l forward -d 'Turn on forwarding for the VIP\'s family (NAT mode needs it); restored when the last VIP is deleted'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and __fish_seen_subcommand_from del" -l dev -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and __fish_seen_subcommand_from del" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and __fish_seen_subcommand_from list" -l dev -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and __fish_seen_subcommand_from list" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand vip; and __fish_seen_subcommand_from list" -l json
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and not __fish_seen_subcommand_from setup teardown status" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and not __fish_seen_subcommand_from setup teardown status" -f -a "setup" -d 'Make this host accept packets for the VIPs without answering ARP for them (dr, tun), or send its replies back through the director (nat)'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and not __fish_seen_subcommand_from setup teardown status" -f -a "teardown" -d 'Remove the VIPs (all of them, and NAT\'s return routes, if none is named) and, when none is left, restore every route, setting and device set-up changed'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and not __fish_seen_subcommand_from setup teardown status" -f -a "status" -d 'Check each VIP (those set up, if none is named), and how replies to NAT\'s clients would leave: exit 1 if this host would answer ARP for a VIP, a reply would not go through the director, or anything else is wrong'
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and __fish_seen_subcommand_from setup" -l mode -d 'dr: VIPs on lo (or a dummy device) with arp_ignore=1, arp_announce=2; tun: VIPs on the ipip tunnel device, reverse-path filtering relaxed there; nat: the route back to the clients through the director (--gateway)' -r -f -a "dr\t''
tun\t''
nat\t''"
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and __fish_seen_subcommand_from setup" -l dev -d 'The device for the VIPs (default: lo for dr, tunl0 or ip6tnl0 for tun)' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and __fish_seen_subcommand_from setup" -l gateway -d 'nat: the director\'s inside address (DIP), through which replies go back; one per address family' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and __fish_seen_subcommand_from setup" -l to -d 'nat: only replies to this client network go through the director, and the default route stays (repeatable; default: the default route)' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and __fish_seen_subcommand_from setup" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and __fish_seen_subcommand_from teardown" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and __fish_seen_subcommand_from status" -l gateway -d 'nat: the director\'s inside address (DIP), through which replies go back; one per address family' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and __fish_seen_subcommand_from status" -l to -d 'nat: only replies to this client network go through the director, and the default route stays (repeatable; default: the default route)' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and __fish_seen_subcommand_from status" -l netns -d 'Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given first, it also applies to ipvsadm-style commands' -r
complete -c lvsadm -n "__fish_lvsadm_using_subcommand realserver; and __fish_seen_subcommand_from status" -l json
