"""The search: a keras-tuner session whose trials tunenet runs, records and scores.

`tuner` opens (or joins) a run and drives the session, for in-process and distributed searches;
`oracles` choose each trial's values (keras-tuner's, grid, capacity); `trial` fits, records and
scores one trial; `pipelines` feeds the data; `progress` shows it on stderr; `kt_compat` holds
every private keras-tuner API tunenet uses. Every module but `progress` imports TensorFlow, so
only code that trains or loads models imports them.
"""
