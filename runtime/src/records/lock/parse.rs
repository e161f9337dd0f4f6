//! Reading lockfiles: a small TOML subset (top-level keys, `[[param]]` tables,
//! integers, booleans, basic strings, integer arrays), every error with its
//! line, nothing that panics on any input; a block becomes a record as soon as
//! it ends, so a lockfile of a million parameters parses in one pass.

use std::borrow::Cow;

use super::{named_error, FORMAT};
use crate::error::{closest, printable, Error, Result};
use crate::manifest::{check_spec_version, parse_dtype, Digest, Manifest, ParamRecord};
use crate::scheme::Scheme;

/// Parses lockfile bytes (which must be UTF-8); `file` names them in errors.
pub fn parse_bytes(bytes: &[u8], file: &str) -> Result<Manifest> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text, file),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(named_error(
                file,
                Some(line),
                "not UTF-8 text: not a lockfile".to_owned(),
            ))
        }
    }
}

/// A value on the right of `=` (a string borrows the text unless it has escapes).
#[derive(Debug)]
enum Value<'t> {
    Int(u64),
    Str(Cow<'t, str>),
    Bool(bool),
    Ints(Vec<u64>),
}

impl Value<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => "an integer",
            Value::Str(_) => "a string",
            Value::Bool(_) => "a boolean",
            Value::Ints(_) => "an array",
        }
    }
}

/// One `key = value` with its line.
#[derive(Debug)]
struct Field<'t> {
    line: usize,
    value: Value<'t>,
}

/// The keys of a section, each at most once, by their index in the section's
/// list of known keys.
#[derive(Debug)]
struct Section<'t> {
    line: usize,
    header: bool,
    known: &'static [&'static str],
    fields: [Option<Field<'t>>; PARAM_KEYS.len()],
}

impl<'t> Section<'t> {
    fn new(line: usize, header: bool) -> Self {
        Self {
            line,
            header,
            known: if header { &HEADER_KEYS } else { &PARAM_KEYS },
            fields: Default::default(),
        }
    }
}

const HEADER_KEYS: [&str; 4] = ["lockfile", "parameters", "seed", "model_version"];
const PARAM_KEYS: [&str; 11] = [
    "path",
    "alias",
    "rule",
    "shape",
    "dtype",
    "init",
    "version",
    "seed",
    "trainable",
    "spec_version",
    "blake3",
];

/// Parses lockfile text; `file` names it in errors. Every error names the line;
/// nothing panics on any input.
pub fn parse(text: &str, file: &str) -> Result<Manifest> {
    // A byte order mark, as some editors write, is no part of the text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Reasons quote the file, whose text must not reach a terminal raw.
    let err = |line: usize, reason: String| named_error(file, Some(line), printable(&capped(reason)).into_owned());
    let mut parser = Parser {
        file,
        header: Section::new(1, true),
        top: None,
        block: None,
        params: Vec::new(),
        lines: Vec::new(),
        schemes: Vec::new(),
    };
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            let table = strip_comment(line).ok_or_else(|| err(no, "unterminated table header".into()))?;
            if table == "[[param]]" {
                parser.finish_block()?;
                parser.block = Some(Section::new(no, false));
                continue;
            }
            return Err(err(
                no,
                format!("unknown table {}; expected `[[param]]`", quoted(table)),
            ));
        }
        let Some((key, rest)) = line.split_once('=') else {
            return Err(err(
                no,
                format!("expected `key = value` or `[[param]]`, found {}", quoted(line)),
            ));
        };
        let key = key.trim();
        let section = match parser.block.as_mut() {
            Some(b) => b,
            None => &mut parser.header,
        };
        let Some(slot) = section.known.iter().position(|k| *k == key) else {
            let place = if section.header {
                "the header"
            } else {
                "a [[param]] block"
            };
            let hint = closest(key, section.known)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(err(
                no,
                format!(
                    "unknown key {} in {place}{hint} (known: {})",
                    quoted(key),
                    section.known.join(", ")
                ),
            ));
        };
        let value = parse_value(rest.trim()).map_err(|e| err(no, format!("`{key}`: {e}")))?;
        if let Some(prev) = &section.fields[slot] {
            return Err(err(no, format!("`{key}` is already set at line {}", prev.line)));
        }
        section.fields[slot] = Some(Field { line: no, value });
    }
    parser.finish_block()?;
    let top = parser.top()?;
    // Duplicate paths, found by sorting (which `Manifest::new` then finds done).
    let mut order: Vec<usize> = (0..parser.params.len()).collect();
    order.sort_by(|&a, &b| parser.params[a].path.cmp(&parser.params[b].path));
    if let Some(w) = order
        .windows(2)
        .find(|w| parser.params[w[0]].path == parser.params[w[1]].path)
    {
        let (first, second) = (w[0].min(w[1]), w[0].max(w[1]));
        return Err(err(
            parser.lines[second],
            format!(
                "parameter `{}` is already listed at line {}",
                parser.params[first].path, parser.lines[first]
            ),
        ));
    }
    if top.count.0 != parser.params.len() as u64 {
        return Err(err(
            top.count.1,
            format!(
                "`parameters = {}` but the file has {} [[param]] blocks: is it truncated or badly merged?",
                top.count.0,
                parser.params.len()
            ),
        ));
    }
    Manifest::new(top.seed, top.model_version, parser.params)
        .map_err(|e| named_error(file, None, printable(&e.to_string()).into_owned()))
}

/// The header's values, read when the first block (or the end) is reached.
#[derive(Clone, Copy, Debug)]
struct Top {
    /// `parameters` and its line.
    count: (u64, usize),
    seed: Option<u64>,
    model_version: u32,
}

/// The parse in progress: each `[[param]]` block becomes a record as soon as
/// it ends, so only one block's fields are held at a time.
struct Parser<'t> {
    file: &'t str,
    header: Section<'t>,
    top: Option<Top>,
    block: Option<Section<'t>>,
    params: Vec<ParamRecord>,
    /// The line of each record's path, to name both lines of a duplicate.
    lines: Vec<usize>,
    /// Scheme texts already parsed, most recent first (a model has few distinct ones).
    schemes: Vec<(Cow<'t, str>, Scheme)>,
}

impl<'t> Parser<'t> {
    fn top(&mut self) -> Result<Top> {
        if let Some(top) = self.top {
            return Ok(top);
        }
        let (file, h) = (self.file, &self.header);
        let (format_version, format_line) = h.req_int(file, "lockfile", u32::MAX as u64)?;
        if format_version != FORMAT as u64 {
            return Err(named_error(
                file,
                Some(format_line),
                format!(
                    "lockfile format {format_version} is not supported: this version of reproducible reads format {FORMAT}"
                ),
            ));
        }
        let top = Top {
            count: h.req_int(file, "parameters", u64::MAX)?,
            seed: h.opt_int(file, "seed", u64::MAX)?.map(|(s, _)| s),
            model_version: h.req_int(file, "model_version", u32::MAX as u64)?.0 as u32,
        };
        self.top = Some(top);
        Ok(top)
    }

    /// Turns the block in progress, if any, into a record.
    fn finish_block(&mut self) -> Result<()> {
        let top = self.top()?;
        let Some(mut b) = self.block.take() else {
            return Ok(());
        };
        let file = self.file;
        let err = |line: usize, reason: String| named_error(file, Some(line), printable(&capped(reason)).into_owned());
        let (path, path_line) = b.req_str(file, "path")?;
        let path = path.to_owned();
        let alias = b.opt_str(file, "alias")?.map(|(a, _)| a.to_owned());
        let rule = b.opt_str(file, "rule")?.map(|(r, _)| r.to_owned());
        let (shape, shape_line) = b.req_ints(file, "shape")?;
        let shape: Vec<usize> = shape
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                err(
                    shape_line,
                    format!("`shape`: {shape:?} has a dimension too large for this machine"),
                )
            })?;
        if shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none() {
            return Err(err(
                shape_line,
                format!("`shape`: {shape:?} has more elements than fit in usize"),
            ));
        }
        let (dtype, dtype_line) = b.req_str(file, "dtype")?;
        let dtype = parse_dtype(dtype).map_err(|e| err(dtype_line, format!("`dtype`: {e}")))?;
        let (init, init_line) = b.take_str(file, "init")?;
        let scheme = match self.schemes.iter().position(|(text, _)| *text == init) {
            Some(i) => {
                let s = self.schemes[i].1;
                self.schemes[..=i].rotate_right(1);
                s
            }
            None => {
                let s: Scheme = init.parse().map_err(|e| err(init_line, format!("`init`: {e}")))?;
                self.schemes.insert(0, (init, s));
                self.schemes.truncate(16);
                s
            }
        };
        scheme
            .plan(&shape)
            .map_err(|e| err(init_line, format!("`init` cannot initialise shape {shape:?}: {e}")))?;
        let version = b.req_int(file, "version", u32::MAX as u64)?.0 as u32;
        let param_seed = match (b.opt_int(file, "seed", u64::MAX)?, top.seed) {
            (Some((s, _)), _) | (None, Some(s)) => s,
            (None, None) => {
                return Err(err(
                    b.line,
                    format!("parameter `{path}` has no `seed`, and the header sets none"),
                ))
            }
        };
        let trainable = b.req_bool(file, "trainable")?;
        let (spec_version, spec_line) = b.req_int(file, "spec_version", u32::MAX as u64)?;
        check_spec_version(spec_version as u32).map_err(|e| err(spec_line, format!("`spec_version`: {e}")))?;
        let (digest, digest_line) = b.req_str(file, "blake3")?;
        let digest: Digest = digest.parse().map_err(|e| err(digest_line, format!("`blake3`: {e}")))?;
        let record = ParamRecord {
            path,
            alias,
            rule,
            shape,
            dtype,
            scheme,
            version,
            seed: param_seed,
            spec_version: spec_version as u32,
            trainable,
            digest,
        };
        self.lines.push(path_line);
        self.params.push(record);
        Ok(())
    }
}

impl<'t> Section<'t> {
    fn slot(&self, key: &str) -> usize {
        self.known.iter().position(|k| *k == key).expect("a known key")
    }

    fn missing(&self, file: &str, key: &str) -> Error {
        let what = if self.header {
            format!("the header has no `{key}`")
        } else {
            format!("the [[param]] block starting here has no `{key}`")
        };
        named_error(file, Some(self.line), format!("{what} (is the file truncated?)"))
    }

    fn get(&self, file: &str, key: &str, want: &str) -> Result<Option<(&Value<'t>, usize)>> {
        match &self.fields[self.slot(key)] {
            None => Ok(None),
            Some(f) => {
                let ok = matches!(
                    (&f.value, want),
                    (Value::Int(_), "an integer")
                        | (Value::Str(_), "a string")
                        | (Value::Bool(_), "a boolean")
                        | (Value::Ints(_), "an array")
                );
                if ok {
                    Ok(Some((&f.value, f.line)))
                } else {
                    Err(named_error(
                        file,
                        Some(f.line),
                        format!("`{key}` must be {want}, found {}", f.value.kind()),
                    ))
                }
            }
        }
    }

    fn opt_int(&self, file: &str, key: &str, max: u64) -> Result<Option<(u64, usize)>> {
        match self.get(file, key, "an integer")? {
            Some((Value::Int(v), line)) if *v <= max => Ok(Some((*v, line))),
            Some((Value::Int(v), line)) => Err(named_error(
                file,
                Some(line),
                format!("`{key}` is {v}, more than its largest value {max}"),
            )),
            _ => Ok(None),
        }
    }

    fn req_int(&self, file: &str, key: &str, max: u64) -> Result<(u64, usize)> {
        self.opt_int(file, key, max)?.ok_or_else(|| self.missing(file, key))
    }

    fn opt_str(&self, file: &str, key: &str) -> Result<Option<(&str, usize)>> {
        Ok(match self.get(file, key, "a string")? {
            Some((Value::Str(s), line)) => Some((s.as_ref(), line)),
            _ => None,
        })
    }

    /// A required string, moved out of the section (no copy of borrowed text).
    fn take_str(&mut self, file: &str, key: &str) -> Result<(Cow<'t, str>, usize)> {
        self.req_str(file, key)?;
        let slot = self.slot(key);
        match self.fields[slot].take() {
            Some(Field {
                line,
                value: Value::Str(s),
            }) => Ok((s, line)),
            _ => unreachable!("checked by req_str"),
        }
    }

    fn req_str(&self, file: &str, key: &str) -> Result<(&str, usize)> {
        self.opt_str(file, key)?.ok_or_else(|| self.missing(file, key))
    }

    fn req_ints(&self, file: &str, key: &str) -> Result<(&[u64], usize)> {
        match self.get(file, key, "an array")? {
            Some((Value::Ints(v), line)) => Ok((v.as_slice(), line)),
            _ => Err(self.missing(file, key)),
        }
    }

    fn req_bool(&self, file: &str, key: &str) -> Result<bool> {
        match self.get(file, key, "a boolean")? {
            Some((Value::Bool(b), _)) => Ok(*b),
            _ => Err(self.missing(file, key)),
        }
    }
}

/// `text` without a trailing `# comment`, or `None` if something else follows
/// a closing `]`. Only for table headers, which hold no strings.
fn strip_comment(line: &str) -> Option<&str> {
    let end = line.rfind(']')?;
    let (table, rest) = line.split_at(end + 1);
    let rest = rest.trim();
    (rest.is_empty() || rest.starts_with('#')).then_some(table)
}

/// Parses the text right of `=`: a value, then optional whitespace and `# comment`.
fn parse_value(text: &str) -> std::result::Result<Value<'_>, String> {
    let (value, rest) = if let Some(body) = text.strip_prefix('"') {
        let (s, rest) = parse_string(body)?;
        (Value::Str(s), rest)
    } else if let Some(body) = text.strip_prefix('[') {
        let close = body.find(']').ok_or("unterminated array: expected `]`")?;
        let items = body[..close].trim();
        let mut out = Vec::new();
        if !items.is_empty() {
            for item in items.trim_end_matches(',').split(',') {
                out.push(parse_int(item.trim())?);
            }
        }
        (Value::Ints(out), &body[close + 1..])
    } else {
        let end = text.find(|c: char| c.is_whitespace() || c == '#').unwrap_or(text.len());
        let (word, rest) = text.split_at(end);
        let value = match word {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "" => return Err("expected a value after `=`".into()),
            w if w.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') => Value::Int(parse_int(w)?),
            w => {
                return Err(format!(
                    "expected a string, an integer, a boolean or an array, found {}",
                    quoted(w)
                ))
            }
        };
        (value, rest)
    };
    let rest = rest.trim();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(value)
    } else {
        Err(format!("unexpected {} after the value", quoted(rest)))
    }
}

fn parse_int(text: &str) -> std::result::Result<u64, String> {
    if text.is_empty() {
        return Err("expected an integer, found nothing".into());
    }
    let shown = quoted(text);
    if text.starts_with('-') && text.len() > 1 && text[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{shown} is negative; expected a non-negative integer"));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{shown} is not a non-negative integer"));
    }
    // As in TOML: `01` is no integer (nor octal).
    if text.len() > 1 && text.starts_with('0') {
        return Err(format!("{shown} has a leading zero; write it without"));
    }
    text.parse::<u64>()
        .map_err(|_| format!("{shown} is too large (at most {})", u64::MAX))
}

/// The most bytes of the file quoted in one error.
const QUOTE: usize = 80;

/// `text` quoted for an error: whole when short, else its start and its
/// length (a malformed line may be megabytes long).
fn quoted(text: &str) -> String {
    if text.len() <= QUOTE {
        return format!("`{text}`");
    }
    let end = (0..=QUOTE).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    format!("`{}…` ({} bytes)", &text[..end], text.len())
}

/// The most bytes of one error's reason.
const REASON: usize = 1000;

/// `reason`, cut short if something in it (an init text, a dtype) quoted the
/// file at length.
fn capped(reason: String) -> String {
    if reason.len() <= REASON {
        return reason;
    }
    let end = (0..=REASON).rev().find(|&i| reason.is_char_boundary(i)).unwrap_or(0);
    format!("{}… ({} bytes in all)", &reason[..end], reason.len())
}

/// Parses a TOML basic string after its opening quote; returns it (borrowed
/// when it holds no escape) and the rest.
fn parse_string(body: &str) -> std::result::Result<(Cow<'_, str>, &str), String> {
    if let Some(end) = body.find(['"', '\\']).filter(|&e| body.as_bytes()[e] == b'"') {
        let s = &body[..end];
        if let Some(c) = s.chars().find(|&c| c.is_control() && c != '\t') {
            return Err(format!(
                "control character U+{:04X} in a string; write it escaped",
                c as u32
            ));
        }
        return Ok((Cow::Borrowed(s), &body[end + 1..]));
    }
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((Cow::Owned(out), &body[i + 1..])),
            '\\' => {
                let (_, e) = chars.next().ok_or("unterminated string: a `\\` ends the line")?;
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' | 'U' => {
                        let n = if e == 'u' { 4 } else { 8 };
                        let hex: String = chars.by_ref().take(n).map(|(_, c)| c).collect();
                        let code = (hex.len() == n && hex.chars().all(|c| c.is_ascii_hexdigit()))
                            .then(|| u32::from_str_radix(&hex, 16).ok())
                            .flatten()
                            .ok_or_else(|| format!("`\\{e}` needs {n} hex digits, found `{hex}`"))?;
                        out.push(
                            char::from_u32(code)
                                .ok_or_else(|| format!("`\\{e}{hex}` is not a Unicode scalar value"))?,
                        );
                    }
                    other => return Err(format!("unknown escape `\\{other}` in a string")),
                }
            }
            c if c.is_control() && c != '\t' => {
                return Err(format!(
                    "control character U+{:04X} in a string; write it escaped",
                    c as u32
                ))
            }
            c => out.push(c),
        }
    }
    Err("unterminated string: expected a closing `\"`".into())
}
