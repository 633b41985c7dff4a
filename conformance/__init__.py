"""The conformance suite: pytest and hypothesis tests that compare each library's observations
with the oracle, within a stated error model, and record every difference as a finding."""
