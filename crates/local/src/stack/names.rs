//! The names of the pipeline's resources in an environment, as `template.yaml` names them:
//! the one place they are built.

use durapipe_core::ExecutionId;

/// The names of the four functions for an environment.
#[derive(Debug, Clone)]
pub struct FunctionNames {
    /// `{env}-orchestrator`.
    pub orchestrator: String,
    /// `{env}-validate`.
    pub validate: String,
    /// `{env}-transform`.
    pub transform: String,
    /// `{env}-store`.
    pub store: String,
}

impl FunctionNames {
    /// The names for `environment`.
    pub fn new(environment: &str) -> Self {
        Self {
            orchestrator: format!("{environment}-orchestrator"),
            validate: format!("{environment}-validate"),
            transform: format!("{environment}-transform"),
            store: format!("{environment}-store"),
        }
    }
}

/// The names of every resource of the pipeline in one environment.
#[derive(Debug, Clone)]
pub struct ResourceNames {
    /// The environment prefix (`dev`, ...).
    pub environment: String,
    /// `{env}-data-processing-queue`.
    pub queue: String,
    /// `{env}-data-processing-dlq`: the queue's dead-letter queue.
    pub dlq: String,
    /// `{env}-processed-data`: the table `store` writes to (hash key `execution_id`).
    pub table: String,
    /// The four functions.
    pub functions: FunctionNames,
}

impl ResourceNames {
    /// The names for `environment`.
    pub fn for_env(environment: &str) -> Self {
        Self {
            environment: environment.to_owned(),
            queue: format!("{environment}-data-processing-queue"),
            dlq: format!("{environment}-data-processing-dlq"),
            table: format!("{environment}-processed-data"),
            functions: FunctionNames::new(environment),
        }
    }

    /// The execution id (the table's key) of the message `message_id`.
    pub fn execution_id(&self, message_id: &str) -> ExecutionId {
        ExecutionId::new(&self.environment, message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_template() {
        let names = ResourceNames::for_env("dev");
        assert_eq!(names.queue, "dev-data-processing-queue");
        assert_eq!(names.dlq, "dev-data-processing-dlq");
        assert_eq!(names.table, "dev-processed-data");
        assert_eq!(names.functions.orchestrator, "dev-orchestrator");
        assert_eq!(names.functions.store, "dev-store");
        assert_eq!(names.execution_id("m1").as_str(), "dev-esm-m1");
    }
}
