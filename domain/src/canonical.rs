//! The JSON Canonicalization Scheme (RFC 8785): one byte sequence per JSON
//! value, so that a hash of it identifies the content and not its layout.
//!
//! Objects are written with their members sorted by the UTF-16 code units
//! of their names, no whitespace anywhere, strings escaped as ECMAScript's
//! `JSON.stringify` does, and numbers in ECMAScript's shortest form.

use serde_json::{Number, Value};
use sha2::{Digest, Sha256};

/// The canonical text of `value`.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// Lower-case hex SHA-256 of the canonical text of `value`.
pub fn sha256_hex(value: &Value) -> String {
    let digest = Sha256::digest(to_string(value).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (name, member)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write(member, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c < '\u{20}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(n: &Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        out.push_str(&es6_number(f));
    }
}

/// ECMAScript `Number.prototype.toString` for a finite double (JSON has no
/// NaN or infinities): the shortest round-tripping digits, in plain
/// notation for exponents from -7 to 20 and in exponent notation otherwise.
fn es6_number(f: f64) -> String {
    if f == 0.0 {
        return "0".to_owned();
    }
    // `{:e}` gives the shortest round-tripping digits: "-1.2345e-7".
    let scientific = format!("{:e}", f.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let k = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let n = exponent + 1;
    let sign = if f < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let sign = if n - 1 < 0 { '-' } else { '+' };
        format!("{first}{rest}e{sign}{}", (n - 1).abs())
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_sort_by_utf16_code_units() {
        // RFC 8785 §3.2.3: the emoji (a surrogate pair, D83D…) sorts before
        // U+FB33 although its code point is larger.
        let value: Value = serde_json::from_str(
            r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#,
        )
        .expect("valid");
        let names: Vec<String> = to_string(&value)
            .split(['{', ',', '}'])
            .filter(|part| !part.is_empty())
            .map(|member| member.split(':').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "\"\\r\"",
                "\"1\"",
                "\"\u{80}\"",
                "\"\u{f6}\"",
                "\"\u{20ac}\"",
                "\"\u{1f600}\"",
                "\"\u{fb33}\""
            ]
        );
    }

    #[test]
    fn strings_escape_like_json_stringify() {
        let value = json!({"s": "\u{0}\u{1f}\"\\/\u{7f}é\n"});
        assert_eq!(
            to_string(&value),
            "{\"s\":\"\\u0000\\u001f\\\"\\\\/\u{7f}é\\n\"}"
        );
    }

    #[test]
    fn numbers_use_the_ecmascript_form() {
        // Examples from RFC 8785 Appendix B and §3.2.2.3.
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (1e30, "1e+30"),
            (4.5, "4.5"),
            (0.002, "0.002"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (333333333.3333333, "333333333.3333333"),
            (-5e-324, "-5e-324"),
            (9007199254740992.0, "9007199254740992"),
            (295147905179352830000.0, "295147905179352830000"),
        ];
        for (input, expected) in cases {
            assert_eq!(es6_number(input), expected, "{input}");
        }
        assert_eq!(
            to_string(&json!([1, -7, 10_000, null, true])),
            "[1,-7,10000,null,true]"
        );
    }

    #[test]
    fn layout_does_not_change_the_text() {
        let a: Value = serde_json::from_str("{ \"b\" : [ 1 , 2 ], \"a\" : { \"y\":1,\"x\":2 } }")
            .expect("valid");
        let b = json!({"a": {"x": 2, "y": 1}, "b": [1, 2]});
        assert_eq!(to_string(&a), "{\"a\":{\"x\":2,\"y\":1},\"b\":[1,2]}");
        assert_eq!(sha256_hex(&a), sha256_hex(&b));
        assert_eq!(
            sha256_hex(&json!({})),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
