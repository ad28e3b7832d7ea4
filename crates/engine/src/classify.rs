//! Classifiers for `classify` steps: a label, a confidence and the reasons for it.
//!
//! [`Classifier`] is the surface a `classify` step calls; models plug in behind it. The one
//! shipped is [`RuleClassifier`], written in a workflow's YAML as rules of CEL conditions:
//!
//! ```yaml
//! classifiers:
//!   stockout_cause:
//!     rules:
//!       - label: phantom_inventory
//!         when: decimal(steps.stock.on_hand) > 0.0
//!         confidence: 0.8
//!         reason: the system shows stock that the shelf does not
//!       - label: true_stockout
//!         when: decimal(steps.stock.on_hand) <= 0.0
//!         confidence: 0.9
//!         reason: nothing on hand
//!     otherwise: { label: unknown, confidence: 0.2 }
//! ```

use std::fmt::Debug;

use serde::Serialize;
use serde_json::Value;

use crate::expr::ExprError;
use crate::workflow::Expr;

/// What a classifier concluded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// The label, e.g. `phantom_inventory`.
    pub label: String,
    /// How sure it is, from 0 to 1.
    pub confidence: f64,
    /// Why, for people.
    pub reasons: Vec<String>,
    /// Which classifier and version decided, e.g. `rules:stockout_cause`.
    pub model: String,
}

/// A classifier could not classify.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClassifyError {
    /// A rule's condition failed.
    #[error("classifier {classifier}: rule {rule} ({label}): {error}")]
    Condition {
        /// The classifier.
        classifier: String,
        /// The rule's 1-based number.
        rule: usize,
        /// The rule's label.
        label: String,
        /// What failed.
        error: ExprError,
    },
    /// No rule matched and there is no `otherwise`.
    #[error("classifier {0}: no rule matched and it has no `otherwise`")]
    NoMatch(String),
}

/// Gives a label, a confidence and reasons for an instance context.
pub trait Classifier: Send + Sync + Debug {
    /// Its name and version, recorded with every classification.
    fn model(&self) -> String;

    /// Classifies `context` (the instance context: `event`, `inputs`, `steps`, …).
    ///
    /// # Errors
    ///
    /// [`ClassifyError`] when it cannot.
    fn classify(&self, context: &Value) -> Result<Classification, ClassifyError>;
}

/// One rule of a [`RuleClassifier`].
#[derive(Debug, Clone)]
pub struct ClassRule {
    /// The label it gives.
    pub label: String,
    /// When it applies.
    pub when: Expr,
    /// Its confidence, 0 to 1.
    pub confidence: f64,
    /// Why, for people.
    pub reason: String,
}

/// A classifier written as rules: every rule whose condition holds votes for its label; the
/// label with the highest confidence wins (the first in rule order on a tie), with the reasons of
/// all rules that voted for it.
#[derive(Debug, Clone)]
pub struct RuleClassifier {
    /// Its name.
    pub name: String,
    /// The rules, in order.
    pub rules: Vec<ClassRule>,
    /// Label and confidence when no rule holds.
    pub otherwise: Option<(String, f64)>,
}

impl Classifier for RuleClassifier {
    fn model(&self) -> String {
        format!("rules:{}", self.name)
    }

    fn classify(&self, context: &Value) -> Result<Classification, ClassifyError> {
        let mut matched: Vec<&ClassRule> = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let holds = rule.when.compiled.evaluate_bool(context).map_err(|error| ClassifyError::Condition {
                classifier: self.name.clone(),
                rule: i + 1,
                label: rule.label.clone(),
                error,
            })?;
            if holds {
                matched.push(rule);
            }
        }
        let best = matched.iter().fold(None::<&ClassRule>, |best, r| match best {
            Some(b) if b.confidence >= r.confidence => Some(b),
            _ => Some(r),
        });
        match best {
            Some(best) => Ok(Classification {
                label: best.label.clone(),
                confidence: best.confidence,
                reasons: matched.iter().filter(|r| r.label == best.label).map(|r| r.reason.clone()).collect(),
                model: self.model(),
            }),
            None => match &self.otherwise {
                Some((label, confidence)) => Ok(Classification {
                    label: label.clone(),
                    confidence: *confidence,
                    reasons: vec!["no rule matched".to_owned()],
                    model: self.model(),
                }),
                None => Err(ClassifyError::NoMatch(self.name.clone())),
            },
        }
    }
}
