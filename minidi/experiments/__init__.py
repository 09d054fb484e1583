"""The studies: one package per study (spec, cells, report), run by `driver`; `dense`, `studydata`, `stats` and
`limits` are what they share. The CLI (`cli_studies`) and the scripts in examples/ call these."""
