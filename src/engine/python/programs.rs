//! The Python programs parlab ships (in `assets/python/`, carried inside the
//! binary): the course's examples, written for parlab. Each program's
//! docstring is its description: what to look for.

/// Which settings a shipped program takes on its command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Knobs {
    /// `--workers N`.
    pub workers: bool,
    /// `--mode threads|processes`.
    pub mode: bool,
    /// Starts processes, so the start method (fork / spawn) matters.
    pub processes: bool,
}

/// One shipped program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Program {
    /// Name as typed (`pool_primes`); the file is `NAME.py`.
    pub name: &'static str,
    pub source: &'static str,
    pub knobs: Knobs,
}

const fn knobs(workers: bool, mode: bool, processes: bool) -> Knobs {
    Knobs {
        workers,
        mode,
        processes,
    }
}

/// Every shipped program, in teaching order.
pub const PROGRAMS: [Program; 11] = [
    Program {
        name: "pool_sqrt",
        source: include_str!("../../../assets/python/pool_sqrt.py"),
        knobs: knobs(true, false, true),
    },
    Program {
        name: "pool_primes",
        source: include_str!("../../../assets/python/pool_primes.py"),
        knobs: knobs(true, true, true),
    },
    Program {
        name: "threads_vs_processes",
        source: include_str!("../../../assets/python/threads_vs_processes.py"),
        knobs: knobs(true, true, true),
    },
    Program {
        name: "sleep_threads",
        source: include_str!("../../../assets/python/sleep_threads.py"),
        knobs: knobs(true, true, true),
    },
    Program {
        name: "race_threads",
        source: include_str!("../../../assets/python/race_threads.py"),
        knobs: knobs(false, false, false),
    },
    Program {
        name: "race_locked",
        source: include_str!("../../../assets/python/race_locked.py"),
        knobs: knobs(false, false, false),
    },
    Program {
        name: "value_race",
        source: include_str!("../../../assets/python/value_race.py"),
        knobs: knobs(false, false, true),
    },
    Program {
        name: "value_locked",
        source: include_str!("../../../assets/python/value_locked.py"),
        knobs: knobs(false, false, true),
    },
    Program {
        name: "queue_results",
        source: include_str!("../../../assets/python/queue_results.py"),
        knobs: knobs(true, false, true),
    },
    Program {
        name: "hello_order",
        source: include_str!("../../../assets/python/hello_order.py"),
        knobs: knobs(true, false, true),
    },
    Program {
        name: "global_list",
        source: include_str!("../../../assets/python/global_list.py"),
        knobs: knobs(false, true, true),
    },
];

/// The shipped programs.
pub fn programs() -> impl Iterator<Item = &'static Program> {
    PROGRAMS.iter()
}

/// The shipped program called `name` (`pool_primes` or `pool_primes.py`).
pub fn find(name: &str) -> Option<&'static Program> {
    let name = name.strip_suffix(".py").unwrap_or(name);
    programs().find(|p| p.name == name)
}

impl Program {
    pub fn file_name(&self) -> String {
        format!("{}.py", self.name)
    }

    /// The docstring's first line: what the program shows.
    pub fn title(&self) -> &'static str {
        docstring(self.source).lines().next().unwrap_or(self.name)
    }

    /// The docstring after its first line: what to look for.
    pub fn description(&self) -> String {
        let doc = docstring(self.source);
        let body = doc.split_once('\n').map_or("", |(_, rest)| rest);
        body.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// A module's leading `"""docstring"""` (empty when there is none).
pub fn docstring(source: &str) -> &str {
    let text = source.trim_start();
    let Some(rest) = text.strip_prefix("\"\"\"") else {
        return "";
    };
    rest.split_once("\"\"\"").map_or("", |(doc, _)| doc.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_program_has_a_title_and_a_description() {
        let all: Vec<_> = programs().collect();
        assert_eq!(all.len(), 11);
        for p in all {
            assert!(p.title().len() > 10, "{}", p.name);
            assert!(p.description().len() > 100, "{}", p.name);
            assert!(p.source.contains("__main__"), "{}", p.name);
            assert!(
                !p.source.contains("parlab_trace"),
                "{}: runs without parlab",
                p.name
            );
            assert_eq!(find(&p.file_name()), Some(p));
            if p.knobs.workers {
                assert!(p.source.contains("--workers"), "{}", p.name);
            }
            if p.knobs.mode {
                assert!(p.source.contains("--mode"), "{}", p.name);
            }
        }
        assert_eq!(find("nope"), None);
    }
}
