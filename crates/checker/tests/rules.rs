//! The table a configuration starts with, as `lvsadm -S -n` writes it. (The VM suite compares
//! it with what keepalived itself programs, for every configuration of the corpus.)

use keepalived::Options;

fn rules(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("checker-rules-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keepalived.conf");
    std::fs::write(&file, text).unwrap();
    let reading = keepalived::read(&file, &Options::default());
    std::fs::remove_dir_all(&dir).ok();
    checker::rules(&reading.config)
}

#[test]
fn real_servers_in_file_order_with_their_weights() {
    let text = "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_kind DR\n lb_algo rr\n\
                real_server 192.0.2.11 {\n }\n real_server 192.0.2.12 80 {\n weight 3\n }\n}\n";
    assert_eq!(
        rules("defaults", text),
        "-A -t 192.0.2.1:80 -s rr\n\
         -a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 1\n\
         -a -t 192.0.2.1:80 -r 192.0.2.12:80 -g -w 3\n"
    );
}

#[test]
fn a_group_makes_a_service_per_address_and_mark() {
    let text = "virtual_server_group G {\n 192.0.2.1-3 80\n 198.51.100.0/30 443\n fwmark 7\n}\n\
                virtual_server group G {\n protocol TCP\n lb_kind DR\n lb_algo rr\n\
                real_server 203.0.113.1 {\n }\n}\n";
    let rules = rules("groups", text);
    assert_eq!(
        rules.lines().filter(|l| l.starts_with("-A")).count(),
        3 + 4 + 1
    );
    assert!(rules.contains("-A -f 7 -s rr\n"));
}

#[test]
fn fwmark_services_forward_to_port_zero() {
    let text = "virtual_server fwmark 5 {\n lb_kind DR\n lb_algo rr\n\
                real_server 203.0.113.1 80 {\n }\n}\n";
    assert_eq!(
        rules("fwmark", text),
        "-A -f 5 -s rr\n-a -f 5 -r 203.0.113.1:0 -g -w 1\n"
    );
}

#[test]
fn tunnels_and_scheduler_flags() {
    let text = "virtual_server 2001:db8::1 443 { protocol TCP\nlb_algo sh\nsh-port\nlb_kind TUN type gue port 6080 csum\n\
                real_server 2001:db8::2 443 { weight 5 } }\n";
    assert_eq!(
        rules("tunnel", text),
        "-A -t [2001:db8::1]:443 -s sh -b sh-port\n\
         -a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -i -w 5 --tun-type gue --tun-port 6080 --tun-csum\n"
    );
}
