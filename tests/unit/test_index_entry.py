import pytest

from cqrskit.core.ports import IndexEntry


@pytest.mark.parametrize(("member", "sort_key"), [("a\x00b", "k"), ("m", "k\x00")])
def test_nul_in_an_index_entry_is_refused_whatever_the_store(
    member: str, sort_key: str
) -> None:
    with pytest.raises(ValueError, match="NUL"):
        IndexEntry(member, sort_key)
