//! Helpers that several layer kinds use: opening their output files, naming threads.

mod output_file;
mod thread_name;

pub(crate) use output_file::{create_truncated, open_for_append};
pub(crate) use thread_name::os_thread_name;
