"""A library's own test module here is named after its folder (``test_keras.py`` tests
``adapters/keras/``) and is collected where that folder's adapters are covered
(``tests/_tested.py``): a backend env runs its own library's module, not the others' skipped.
It holds what is that library's own: every binding's agreement with the oracle and its
reproducers are ``tests/test_agreement.py``'s, its capabilities
``tests/test_adapter_contracts.py``'s, its framework's settings ``test_frameworks.py``'s."""

from _tested import tested

from adapters import FOLDERS

collect_ignore = [f"test_{folder}.py" for folder, names in FOLDERS.items()
                  if not set(names) & set(tested())]
