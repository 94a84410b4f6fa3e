//! The malformed automerge documents every place that accepts automerge bytes from outside must
//! refuse with an error (see `automerge/README.md` for where each came from). Tests of every
//! crate include this one file (`#[path = ".../tests/corpus/automerge.rs"] mod corpus;`), so the
//! corpus is listed once and compiled into the tests: nothing is read from outside the repository.

/// Every crasher of the corpus, by file name.
pub fn crashers() -> Vec<(&'static str, &'static [u8])> {
    macro_rules! corpus {
        ($($name:literal),* $(,)?) => {
            vec![$(($name, include_bytes!(concat!("automerge/", $name)).as_slice())),*]
        };
    }
    corpus![
        "action-is-48.automerge",
        "crash-da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "incorrect_max_op.automerge",
        "invalid_deflate_stream.automerge",
        "missing_actor.automerge",
        "overflow_in_length.automerge",
        "too_many_deps.automerge",
        "too_many_ops.automerge",
    ]
}
