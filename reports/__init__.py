"""The report builder: turns the results JSON of conformance runs into one self-contained HTML
page that shows library maintainers where and how their library differs from the oracle."""
