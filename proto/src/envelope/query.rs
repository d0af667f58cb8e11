//! The query string of the gateway handshake URL:
//! `?sendID=…&token=…&platformID=…&operationID=…&isBackground=…[&compression=gzip][&sdkType=js][&isMsgResp=true]`.
//!
//! Parsing follows the gateway: `sendID`, `token`, `operationID` must be non-empty, `platformID` an integer
//! naming a platform (1..=11), `isBackground` a Go `strconv.ParseBool` literal (required; the gateway
//! refuses the handshake without it), `sdkType` `go`, `js` or empty, `compression` turns gzip on only when
//! it is exactly `gzip`. Every failure is a typed [`DecodeError`] so a server can answer 1602. When a key
//! repeats, the first value counts (Go `url.Values.Get`). No I/O, no panics on input.

use crate::error::DecodeError;

use super::Compression;

/// The envelope codec requested by `sdkType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SdkType {
    /// `go` or absent: gob envelopes.
    #[default]
    Go,
    /// `js`: JSON envelopes.
    Js,
}

/// The handshake query parameters of a gateway connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectParams {
    pub send_id: String,
    pub token: String,
    pub platform_id: i32,
    pub operation_id: String,
    pub is_background: bool,
    pub compression: Compression,
    pub sdk_type: SdkType,
    /// `isMsgResp=true`: the gateway reports the handshake result in a first text frame.
    pub is_msg_resp: bool,
}

impl ConnectParams {
    /// Parses a query string (with or without the leading `?`).
    pub fn from_query(query: &str) -> Result<Self, DecodeError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let key = unescape(key, "query key")?;
            let value = unescape(value, "query value")?;
            pairs.push((key, value));
        }
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let required = |key: &'static str| match get(key) {
            Some(v) if !v.is_empty() => Ok(v.to_owned()),
            _ => Err(DecodeError::MissingField(key)),
        };

        let send_id = required("sendID")?;
        let token = required("token")?;
        let platform = required("platformID")?;
        let platform_id = match platform.parse::<i32>() {
            Ok(p) if (1..=11).contains(&p) => p,
            _ => {
                return Err(DecodeError::InvalidValue {
                    field: "platformID",
                    value: platform,
                })
            }
        };
        let operation_id = required("operationID")?;
        let is_background = match get("isBackground") {
            None | Some("") => return Err(DecodeError::MissingField("isBackground")),
            Some(v) => parse_bool(v, "isBackground")?,
        };
        let is_msg_resp = match get("isMsgResp") {
            None | Some("") => false,
            Some(v) => parse_bool(v, "isMsgResp")?,
        };
        let sdk_type = match get("sdkType") {
            None | Some("" | "go") => SdkType::Go,
            Some("js") => SdkType::Js,
            Some(other) => {
                return Err(DecodeError::InvalidValue {
                    field: "sdkType",
                    value: other.to_owned(),
                })
            }
        };
        let compression = match get("compression") {
            Some("gzip") => Compression::Gzip,
            _ => Compression::None,
        };
        Ok(Self {
            send_id,
            token,
            platform_id,
            operation_id,
            is_background,
            compression,
            sdk_type,
            is_msg_resp,
        })
    }

    /// The query string (without `?`), in the order of the protocol description; `compression`, `sdkType`
    /// and `isMsgResp` only when they differ from their defaults.
    pub fn to_query(&self) -> String {
        let mut q = format!(
            "sendID={}&token={}&platformID={}&operationID={}&isBackground={}",
            escape(&self.send_id),
            escape(&self.token),
            self.platform_id,
            escape(&self.operation_id),
            self.is_background
        );
        if self.compression == Compression::Gzip {
            q.push_str("&compression=gzip");
        }
        if self.sdk_type == SdkType::Js {
            q.push_str("&sdkType=js");
        }
        if self.is_msg_resp {
            q.push_str("&isMsgResp=true");
        }
        q
    }
}

/// Go `strconv.ParseBool`.
fn parse_bool(v: &str, field: &'static str) -> Result<bool, DecodeError> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(DecodeError::InvalidValue {
            field,
            value: v.to_owned(),
        }),
    }
}

/// Go `url.QueryUnescape`: `+` is a space, `%XX` a byte; the result must be UTF-8.
fn unescape(s: &str, field: &'static str) -> Result<String, DecodeError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |k: usize| bytes.get(k).and_then(|c| (*c as char).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => {
                        return Err(DecodeError::InvalidValue {
                            field,
                            value: s.to_owned(),
                        })
                    }
                }
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| DecodeError::InvalidUtf8 { field })
}

/// Go `url.QueryEscape`: unreserved bytes as is, space as `+`, everything else `%XX`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                // `%` and two uppercase hex digits, as `{b:02X}` writes them.
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_write_two_uppercase_hex_digits() {
        let text: String = (0u8..128).map(char::from).chain(['é', '€', '😀']).collect();
        let mut expected = String::new();
        for &b in text.as_bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    expected.push(char::from(b))
                }
                b' ' => expected.push('+'),
                _ => expected.push_str(&format!("%{b:02X}")),
            }
        }
        assert_eq!(super::escape(&text), expected);
    }
}
