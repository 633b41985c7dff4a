"""The README's supported-API table is generated from the declarations and must match them."""

from pathlib import Path

from adapters.support_table import END, START, replace_in, table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_table_is_up_to_date():
    text = README.read_text()
    assert replace_in(text) == text, (
        "README.md's supported-API table is out of date: run `python -m adapters --write README.md`"
    )


def test_every_declared_binding_is_in_the_table():
    from adapters import all_bindings

    rendered = table()
    for binding in all_bindings():
        assert f"| `{binding.api}` |" in rendered
    assert "| `tf.keras.losses.BinaryCrossentropy` | tf-keras |" in rendered
    readme = README.read_text()
    assert START in readme
    assert END in readme
