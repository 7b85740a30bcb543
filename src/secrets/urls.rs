//! Credentials in URLs: `tcp://user:password@host` on a command line must not reach meta.json,
//! a report's "Reproduce with" line or the terminal.

/// `text` with the user information of every URL in it removed, wherever the URL stands
/// (`--docker-host=NAME=tcp://...`, `--build-arg=PROXY=http://user:pw@proxy:3128`):
/// `tcp://user:password@host` becomes `tcp://host`. A token is often given as the user name
/// alone (`https://TOKEN@host`), so the user goes too, except in an `ssh://` URL, whose user
/// says whom to log in as (the docker CLI refuses a password there).
pub fn without_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(separator) = rest.find("://") {
        let (before, after) = rest.split_at(separator);
        let after = &after[3..];
        let scheme_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
            .last()
            .map_or(before.len(), |(at, _)| at);
        let scheme = &before[scheme_start..];
        out.push_str(before);
        out.push_str("://");
        let authority_end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`') || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        let valid_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic());
        match authority.rsplit_once('@') {
            Some((user_info, host)) if valid_scheme => {
                let user = user_info.split(':').next().unwrap_or_default();
                if scheme.eq_ignore_ascii_case("ssh") && !user.is_empty() {
                    out.push_str(user);
                    out.push('@');
                }
                out.push_str(host);
            }
            _ => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_from_every_url_wherever_it_stands() {
        for (given, shown) in [
            ("tcp://user:password@127.0.0.1:2375", "tcp://127.0.0.1:2375"),
            ("tcp://admin@10.0.0.5:2375", "tcp://10.0.0.5:2375"),
            (
                "--docker-host=remote=tcp://u:p@h:1",
                "--docker-host=remote=tcp://h:1",
            ),
            (
                "PROXY=http://u:p%40ss@proxy:3128/x?y=a@b",
                "PROXY=http://proxy:3128/x?y=a@b",
            ),
            ("https://ghp_token@github.com/o/r", "https://github.com/o/r"),
            ("ssh://builder@box", "ssh://builder@box"),
            ("ssh://builder:pw@box:22", "ssh://builder@box:22"),
            ("a http://x:y@h b https://z@i", "a http://h b https://i"),
            ("http://p@ss@host/", "http://host/"),
            ("unix:///var/run/docker.sock", "unix:///var/run/docker.sock"),
            ("https://registry/@scope/pkg", "https://registry/@scope/pkg"),
            ("://x@y", "://x@y"),
            ("no url @ all", "no url @ all"),
            ("\"tcp://u:p@h\"", "\"tcp://h\""),
        ] {
            assert_eq!(without_url_credentials(given), shown, "{given}");
        }
    }
}
