"""compiler.playbookexpr.bad_hosts, called directly (at import it only builds the module's constants)."""

from __future__ import annotations

from compiler import playbookexpr as pe


def test_bad_hosts_counts_rescued_hosts_and_hosts_removed_by_ansible() -> None:
    assert pe.bad_hosts("H") == (
        "(((H) | map('extract', hostvars) | selectattr('procc_halt', 'defined')"
        " | selectattr('procc_halt', 'equalto', procc_run_key) | map(attribute='inventory_hostname') | list)"
        " + ((H) | zip((H) | map('extract', hostvars)"
        " | map(attribute='procc_finished', default='') | list) | rejectattr('1', 'equalto', procc_run_key)"
        " | map('first') | list)) | unique | list"
    )
    assert pe.bad_hosts("ansible_play_hosts_all") == pe.FLEET_BAD
    assert pe.bad_hosts("procc_batch") in pe.VERDICT
