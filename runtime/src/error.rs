//! Errors are values: every one names the input that was wrong.

use std::fmt;

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while describing or generating a parameter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A shape that cannot be generated (zero-sized, too large, wrong rank for the scheme).
    #[error("shape {shape}: {reason}")]
    Shape {
        /// The offending shape.
        shape: ShapeDisplay,
        /// What is wrong with it.
        reason: String,
    },
    /// An init scheme whose parameters are invalid (negative std, a >= b, ...).
    #[error("init scheme `{scheme}`: {reason}")]
    Scheme {
        /// The scheme, in its text form.
        scheme: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A scheme text (`kaiming_uniform(a=2.236)`) that does not parse.
    #[error("cannot parse init scheme `{input}` at column {column}: {reason}")]
    Parse {
        /// The text that was given.
        input: String,
        /// 1-based column of the problem.
        column: usize,
        /// What was expected there.
        reason: String,
    },
    /// A slice outside the tensor or of the wrong rank.
    #[error("region {region} of shape {shape}: {reason}")]
    Region {
        /// The requested region, as `start:end` per dimension.
        region: String,
        /// The full shape.
        shape: ShapeDisplay,
        /// What is wrong with it.
        reason: String,
    },
    /// A layer or module configuration that cannot be built (zero groups, negative eps).
    #[error("{layer}{}: {reason}", if .path.is_empty() { String::new() } else { format!(" `{}`", .path) })]
    Config {
        /// The dotted path of the module (empty at the root).
        path: String,
        /// The layer kind, e.g. `conv2d`.
        layer: String,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint that cannot be written, read, or that does not match the model.
    #[error("checkpoint `{file}`: {reason}")]
    Checkpoint {
        /// The file.
        file: String,
        /// What is wrong, naming every offending tensor.
        reason: String,
    },
    /// A lockfile that cannot be read, is malformed, or cannot be written.
    #[error("lockfile `{file}`{}: {reason}", .line.map(|n| format!(" line {n}")).unwrap_or_default())]
    Lockfile {
        /// The file.
        file: String,
        /// The 1-based line of the problem, when it has one.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },
    /// An init rule whose pattern is malformed, or that matched no parameter.
    #[error("init rule `{pattern}`: {reason}")]
    Rule {
        /// The rule's pattern (after its recipe's name, for a recipe's rule).
        pattern: String,
        /// What is wrong.
        reason: String,
    },
    /// A kernel path that cannot be used: an unknown name, a path this CPU
    /// lacks, or one that failed its check against the reference; or an
    /// unknown value of `REPRODUCIBLE_HUGE_PAGES`.
    #[error("{0}")]
    Kernel(String),
    /// An error about one parameter, with its path.
    #[error("parameter `{path}`: {source}")]
    Parameter {
        /// The dotted parameter path.
        path: String,
        /// The underlying error.
        source: Box<Error>,
    },
    /// An error from candle (device allocation, upload).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl Error {
    pub(crate) fn shape(shape: &[usize], reason: impl Into<String>) -> Self {
        Error::Shape {
            shape: ShapeDisplay(shape.to_vec()),
            reason: reason.into(),
        }
    }

    pub(crate) fn scheme(scheme: impl fmt::Display, reason: impl Into<String>) -> Self {
        Error::Scheme {
            scheme: scheme.to_string(),
            reason: reason.into(),
        }
    }

    /// Attaches a parameter path to this error. A kernel error is left as it
    /// is: it is the process's configuration (`REPRODUCIBLE_KERNEL`, the
    /// CPU), not something of whichever parameter happened to be made first.
    pub fn at_path(self, path: &str) -> Self {
        match self {
            Error::Kernel(_) => self,
            other => Error::Parameter {
                path: path.to_owned(),
                source: Box::new(other),
            },
        }
    }
}

/// `text` (from a file, or anything else untrusted) safe to print on a
/// terminal: control characters become escapes (`\u{1b}`, `\n`), so no escape
/// sequence or line break in a parameter path reaches the terminal raw.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A shape printed as `[4, 8]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeDisplay(pub Vec<usize>);

impl fmt::Display for ShapeDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Lets `?` turn this crate's errors into candle's inside `Module::forward` and
/// other code returning `candle_core::Result`; the message is kept whole.
impl From<Error> for candle_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Candle(c) => c,
            other => candle_core::Error::wrap(other),
        }
    }
}

/// The candidate within edit distance 2 of `word`, for "did you mean" hints.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= 2.max(word.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
