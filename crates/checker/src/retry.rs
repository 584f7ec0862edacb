//! How a checker counts failures and when it checks next, as each of keepalived 2.2.7's
//! checkers does after a result (their epilogs): a checker that is up, or has not run yet,
//! goes down after `retry` + 1 failures in a row, spaced by `delay_before_retry`; one success
//! brings it up. They differ only in how a checker that is already down is paced.

use crate::Micros;
use keepalived::check::checker::Method;

/// The pace of checks once a checker is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WhileDown {
    /// `TCP_CHECK` goes on retrying: `delay_before_retry` between failures, `delay_loop` after
    /// `retry` of them (check_tcp.c's `tcp_epilog`).
    Retrying,
    /// `HTTP_GET` and `SSL_GET` wait the longer of `delay_before_retry` and `delay_loop`
    /// (check_http.c's `epilog`, with a failed URL).
    Longer,
    /// The others wait `delay_loop`.
    Loop,
}

/// A checker's timers and retries, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    pub retry: u32,
    pub delay_before_retry: Micros,
    pub delay_loop: Micros,
    pub while_down: WhileDown,
}

impl Policy {
    /// keepalived's pacing for `method`. A `delay_before_retry` the checker does not have
    /// (`DNS_CHECK` defaults to none) is its `delay_loop`.
    pub fn of(
        method: &Method,
        retry: u32,
        delay_before_retry: Option<Micros>,
        delay_loop: Micros,
    ) -> Policy {
        Policy {
            retry,
            delay_before_retry: delay_before_retry.unwrap_or(delay_loop),
            delay_loop,
            while_down: match method {
                Method::Tcp => WhileDown::Retrying,
                Method::Http(_) => WhileDown::Longer,
                _ => WhileDown::Loop,
            },
        }
    }
}

/// What a checker knows between checks (keepalived's `is_up`, `has_run`, `retry_it`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    pub up: bool,
    pub has_run: bool,
    pub retries: u32,
    /// Whether a result has decided its state yet (a success, or a failure after the
    /// retries): keepalived notifies a real server's state then even when it did not change.
    pub decided: bool,
}

impl Count {
    /// A checker's count when the daemon starts: keepalived lets one failure decide the
    /// first check (check_data.c sets `retry_it` to `retry`), so a server that is down at
    /// start leaves the pool at its first check.
    pub fn at_start(up: bool, policy: &Policy) -> Count {
        Count {
            retries: policy.retry,
            ..Count::new(up)
        }
    }

    /// A checker's count once running, or added by a reload: `retry` + 1 failures decide.
    pub fn new(up: bool) -> Count {
        Count {
            up,
            has_run: false,
            retries: 0,
            decided: false,
        }
    }

    /// Takes one result; returns the delay to the next check.
    pub fn take(&mut self, policy: &Policy, success: bool) -> Micros {
        let counting = self.up || !self.has_run;
        self.has_run = true;
        if success {
            self.retries = 0;
            self.up = true;
            self.decided = true;
            return policy.delay_loop;
        }
        if counting {
            if self.retries < policy.retry {
                self.retries += 1;
                return policy.delay_before_retry;
            }
            self.retries = 0;
            self.up = false;
            self.decided = true;
            return match policy.while_down {
                WhileDown::Longer => policy.delay_before_retry.max(policy.delay_loop),
                _ => policy.delay_loop,
            };
        }
        match policy.while_down {
            WhileDown::Retrying if self.retries < policy.retry => {
                self.retries += 1;
                policy.delay_before_retry
            }
            WhileDown::Retrying => {
                self.retries = 0;
                policy.delay_loop
            }
            WhileDown::Longer => policy.delay_before_retry.max(policy.delay_loop),
            WhileDown::Loop => policy.delay_loop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(while_down: WhileDown) -> Policy {
        Policy {
            retry: 2,
            delay_before_retry: 3,
            delay_loop: 10,
            while_down,
        }
    }

    #[test]
    fn down_after_retry_plus_one_failures_in_a_row() {
        let p = policy(WhileDown::Loop);
        let mut c = Count::new(true);
        assert_eq!(c.take(&p, false), 3);
        assert_eq!(c.take(&p, false), 3);
        assert!(c.up);
        assert_eq!(c.take(&p, false), 10);
        assert!(!c.up);
        assert_eq!(c.take(&p, false), 10);
        assert_eq!(c.take(&p, true), 10);
        assert!(c.up);
    }

    #[test]
    fn at_start_one_failure_decides() {
        let p = policy(WhileDown::Loop);
        let mut c = Count::at_start(true, &p);
        assert_eq!(c.take(&p, false), 10);
        assert!(!c.up);
        let mut c = Count::at_start(true, &p);
        c.take(&p, true);
        c.take(&p, false);
        assert!(c.up, "after a first success the retries count");
    }

    #[test]
    fn a_success_between_failures_starts_the_count_again() {
        let p = policy(WhileDown::Loop);
        let mut c = Count::new(true);
        c.take(&p, false);
        c.take(&p, false);
        c.take(&p, true);
        c.take(&p, false);
        c.take(&p, false);
        assert!(c.up);
    }

    #[test]
    fn an_alpha_checker_is_down_until_its_first_success() {
        let p = policy(WhileDown::Loop);
        let mut c = Count::new(false);
        // Before its first run it counts failures as an up checker does.
        assert_eq!(c.take(&p, false), 3);
        assert!(!c.up);
        assert_eq!(c.take(&p, true), 10);
        assert!(c.up);
    }

    #[test]
    fn tcp_keeps_retrying_while_down_and_http_waits_the_longer_delay() {
        let mut tcp = Count::new(false);
        tcp.has_run = true;
        let p = policy(WhileDown::Retrying);
        assert_eq!(
            [
                tcp.take(&p, false),
                tcp.take(&p, false),
                tcp.take(&p, false)
            ],
            [3, 3, 10]
        );
        let mut p = policy(WhileDown::Longer);
        p.delay_before_retry = 20;
        let mut http = Count::new(true);
        assert_eq!(
            [
                http.take(&p, false),
                http.take(&p, false),
                http.take(&p, false),
                http.take(&p, false)
            ],
            [20, 20, 20, 20]
        );
        assert!(!http.up);
    }
}
