//! Init rules: which scheme a parameter gets, by its path.
//!
//! Code that builds through a `VarBuilder` says little about init: candle's
//! `vb.get(shape, name)` hints `Const(0)`, and `candle_nn::linear` hints
//! Kaiming-uniform, whatever the model's authors used. A [`Rules`] list maps
//! path patterns to schemes; the keyed builders ([`crate::backend::KeyedVars`])
//! try the rules in order before candle's hint, and the first rule whose
//! pattern matches a parameter's path decides its scheme (and, optionally, its
//! version). The rule is recorded in the parameter's provenance, so
//! checkpoints, manifests, lockfiles and `repro explain` say which rule made it.
//!
//! A pattern is a dotted path whose segments may hold wildcards:
//!
//! | pattern | matches |
//! |---------|---------|
//! | `lm_head.weight` | exactly that path |
//! | `*` in a segment | any run of characters within one segment: `*_proj.weight` |
//! | `**` as a whole segment | zero or more segments: `**.LayerNorm.weight`, `encoder.**` (a prefix) |
//!
//! ```
//! use reproducible::rules::{Rule, Rules};
//! use reproducible::scheme::{normal, ones, zeros};
//! let rules = Rules::new()
//!     .with(Rule::new("**.LayerNorm.weight", ones())?)
//!     .with(Rule::new("**.bias", zeros())?)
//!     .with(Rule::new("**.weight", normal(0.0, 0.02))?);
//! assert_eq!(rules.find("encoder.layer.0.LayerNorm.weight").unwrap().1.scheme(), &ones());
//! assert_eq!(rules.find("encoder.layer.0.output.dense.weight").unwrap().1.pattern(), "**.weight");
//! assert!(rules.find("position_ids").is_none());
//! # Ok::<(), reproducible::Error>(())
//! ```

use std::fmt;

use crate::error::{Error, Result};
use crate::scheme::Scheme;

/// One segment of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// `**`: zero or more whole segments.
    Any,
    /// A segment, `*` standing for any run of characters in it (split on `*`).
    Glob(Vec<String>),
}

impl Segment {
    fn matches(&self, text: &str) -> bool {
        let Segment::Glob(parts) = self else {
            return true;
        };
        match parts.as_slice() {
            [] => text.is_empty(),
            [exact] => exact == text,
            [first, middle @ .., last] => {
                let Some(rest) = text.strip_prefix(first.as_str()) else {
                    return false;
                };
                let Some(mut rest) = rest.strip_suffix(last.as_str()) else {
                    return false;
                };
                // `first` and `last` may not overlap.
                if first.len() + last.len() > text.len() {
                    return false;
                }
                for part in middle {
                    match rest.find(part.as_str()) {
                        Some(at) => rest = &rest[at + part.len()..],
                        None => return false,
                    }
                }
                true
            }
        }
    }
}

/// A path pattern: dotted segments, `*` within a segment, `**` for any segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    segments: Vec<Segment>,
}

impl Pattern {
    /// Parses `text`; an empty pattern, an empty segment (`a..b`) or a `**`
    /// inside a segment (`a**`) is an error naming the pattern.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Rule {
            pattern: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(bad("the pattern is empty"));
        }
        let segments = text
            .split('.')
            .map(|s| match s {
                "" => Err(bad("a segment is empty (two dots, or a dot at an end)")),
                "**" => Ok(Segment::Any),
                s if s.contains("**") => Err(bad("`**` stands for whole segments: write it between dots")),
                s => Ok(Segment::Glob(s.split('*').map(str::to_owned).collect())),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            text: text.to_owned(),
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the dotted `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        let path: Vec<&str> = path.split('.').collect();
        // reach[j]: the pattern's first i segments match the path's first j.
        let mut reach = vec![false; path.len() + 1];
        reach[0] = true;
        for segment in &self.segments {
            let mut next = vec![false; path.len() + 1];
            match segment {
                Segment::Any => {
                    let mut any = false;
                    for j in 0..=path.len() {
                        any |= reach[j];
                        next[j] = any;
                    }
                }
                glob => {
                    for j in 0..path.len() {
                        next[j + 1] = reach[j] && glob.matches(path[j]);
                    }
                }
            }
            reach = next;
        }
        reach[path.len()]
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A pattern and the scheme (and optionally the version) of the parameters it matches.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pattern: Pattern,
    scheme: Scheme,
    version: Option<u32>,
    optional: bool,
    origin: Option<String>,
}

impl Rule {
    /// The rule giving `scheme` to every parameter whose path matches `pattern`.
    pub fn new(pattern: &str, scheme: Scheme) -> Result<Self> {
        Ok(Self {
            pattern: Pattern::parse(pattern)?,
            scheme,
            version: None,
            optional: false,
            origin: None,
        })
    }

    /// The rule also declares `version` (1 or more) for the parameters it
    /// matches, unless the builder declares one for that path.
    pub fn with_version(mut self, version: u32) -> Result<Self> {
        if version == 0 {
            return Err(Error::Rule {
                pattern: self.pattern.text,
                reason: "versions start at 1".to_owned(),
            });
        }
        self.version = Some(version);
        Ok(self)
    }

    /// Marks the rule as one that may match nothing (a recipe's rule for a part
    /// some configs lack), so [`crate::backend::KeyedVars::unmatched_rules`]
    /// does not report it.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// The pattern.
    pub fn pattern(&self) -> &str {
        self.pattern.as_str()
    }

    /// The scheme.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The declared version, if any.
    pub fn version(&self) -> Option<u32> {
        self.version
    }

    /// Whether the rule may match nothing.
    pub fn is_optional(&self) -> bool {
        self.optional
    }

    /// How provenance records name the rule: the pattern, after the name of
    /// the recipe it comes from (`bert: **.LayerNorm.weight`).
    pub fn label(&self) -> String {
        match &self.origin {
            Some(origin) => format!("{origin}: {}", self.pattern),
            None => self.pattern.to_string(),
        }
    }

    /// Whether the rule matches the dotted `path`.
    pub fn matches(&self, path: &str) -> bool {
        self.pattern.matches(path)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} => {}", self.label(), self.scheme)?;
        if let Some(v) = self.version {
            write!(f, ", version {v}")?;
        }
        Ok(())
    }
}

/// An ordered list of [`Rule`]s: the first that matches a path decides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// No rules: every parameter gets the scheme its builder's hint asks for.
    pub fn new() -> Self {
        Self::default()
    }

    /// The rules of a recipe called `name`: each added rule is labelled
    /// `name: pattern` in provenance.
    pub fn recipe(name: &str, rules: impl IntoIterator<Item = Rule>) -> Self {
        Self {
            rules: rules
                .into_iter()
                .map(|mut r| {
                    r.origin = Some(name.to_owned());
                    r
                })
                .collect(),
        }
    }

    /// These rules, then `rule` (which applies only where none of these match).
    #[must_use]
    pub fn with(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// These rules, then `more`: rules given first take precedence, so a
    /// user's rules placed before a recipe override it.
    #[must_use]
    pub fn then(mut self, more: Rules) -> Self {
        self.rules.extend(more.rules);
        self
    }

    /// The first rule matching `path`, with its index.
    pub fn find(&self, path: &str) -> Option<(usize, &Rule)> {
        self.rules.iter().enumerate().find(|(_, r)| r.matches(path))
    }

    /// The rules, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Rule> {
        self.rules.iter()
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl<'a> IntoIterator for &'a Rules {
    type Item = &'a Rule;
    type IntoIter = std::slice::Iter<'a, Rule>;
    fn into_iter(self) -> Self::IntoIter {
        self.rules.iter()
    }
}

impl fmt::Display for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.rules {
            writeln!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::{ones, zeros};

    fn matches(pattern: &str, path: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(path)
    }

    #[test]
    fn exact_paths_match_only_themselves() {
        assert!(matches("lm_head.weight", "lm_head.weight"));
        assert!(!matches("lm_head.weight", "lm_head.weight2"));
        assert!(!matches("lm_head.weight", "model.lm_head.weight"));
        assert!(!matches("lm_head", "lm_head.weight"));
    }

    #[test]
    fn a_star_stays_within_one_segment() {
        assert!(matches("*.weight", "fc.weight"));
        assert!(!matches("*.weight", "a.fc.weight"));
        assert!(matches("layers.*.mlp.*_proj.weight", "layers.3.mlp.gate_proj.weight"));
        assert!(!matches("layers.*.mlp.*_proj.weight", "layers.3.mlp.gate.weight"));
        assert!(matches("a*b*c", "abc"));
        assert!(matches("a*b*c", "a-b-b-c"));
        assert!(!matches("a*a", "a"), "a prefix and a suffix may not share characters");
        assert!(matches("*", ""), "a star matches an empty segment");
    }

    #[test]
    fn a_double_star_spans_zero_or_more_segments() {
        assert!(matches("**.bias", "bias"));
        assert!(matches("**.bias", "encoder.layer.0.output.bias"));
        assert!(!matches("**.bias", "encoder.bias.weight"));
        assert!(matches("encoder.**", "encoder.layer.0.weight"));
        assert!(matches("encoder.**", "encoder"));
        assert!(!matches("encoder.**", "decoder.layer"));
        assert!(matches("**.layer.**.weight", "a.layer.b.c.weight"));
        assert!(matches("**", "anything.at.all"));
    }

    #[test]
    fn malformed_patterns_are_errors_naming_them() {
        for bad in ["", "a..b", ".a", "a.", "a**.b"] {
            let e = Pattern::parse(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("`{bad}`")), "{e}");
        }
        assert!(Rule::new("a", ones()).unwrap().with_version(0).is_err());
    }

    #[test]
    fn the_first_matching_rule_decides_and_recipes_label_theirs() {
        let rules = Rules::new()
            .with(Rule::new("head.bias", ones()).unwrap())
            .then(Rules::recipe("demo", [Rule::new("**.bias", zeros()).unwrap()]));
        let (i, r) = rules.find("head.bias").unwrap();
        assert_eq!((i, r.label()), (0, "head.bias".to_owned()));
        let (i, r) = rules.find("body.bias").unwrap();
        assert_eq!((i, r.label()), (1, "demo: **.bias".to_owned()));
        assert_eq!(rules.to_string(), "head.bias => ones()\ndemo: **.bias => zeros()\n");
    }
}
