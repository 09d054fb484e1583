"""The studies: one package per study (spec, cells, report), run by `driver`; `dense`, `studydata`, `stats` and
`plots` are what they share; `compat` holds what exists only so that old result folders keep their names. The
CLI (`minidi.cli.studies`) and the scripts in examples/ call these."""
