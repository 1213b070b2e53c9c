"""The placement policy (pure function): table-driven cases, including the seed's example."""

from __future__ import annotations

import pytest

from jarvis_desktop.config import MonitorSettings, RemoteSettings, Settings
from jarvis_desktop.monitor.policy import MemoryState, ModelState, PolicyConfig, place

GIB = 1024.0  # MiB


def one(model: ModelState, free_gib: float, total_gib: float, **cfg) -> tuple[str, str, bool]:
    p = place([model], MemoryState(free_gib * GIB, total_gib * GIB), PolicyConfig(**cfg))[model.name]
    return p.where, p.reason, p.unload


@pytest.mark.parametrize(
    "free, total, size, previous, expected, why",
    [
        # the seed's example: buffer = max(4 GiB, 25 % of 32 GiB = 8 GiB); 10.5 - 2 x 1.6 = 7.3 < 8
        (10.5, 32, 1.6, "local", "remote", "not enough RAM"),
        # same model on a 16 GiB machine: buffer 4 GiB; 7.3 >= 4
        (10.5, 16, 1.6, "local", "local", "fits"),
        # the example flips at 25 % x total = 7.3, i.e. total 29.2 GiB
        (10.5, 29.0, 1.6, "local", "local", "fits"),
        (10.5, 29.4, 1.6, "local", "remote", "not enough RAM"),
        # hysteresis: coming back from remote needs buffer + 1 GiB
        (8.0, 16, 1.6, "remote", "remote", "hysteresis"),  # 8 - 3.2 = 4.8 < 4 + 1
        (8.0, 16, 1.6, "local", "local", "fits"),  # the same memory keeps a local model local
        (9.0, 16, 1.6, "remote", "local", "hysteresis"),  # 9 - 3.2 = 5.8 >= 5: back to local
        # a big model on a small machine
        (6.0, 8, 7.0, "local", "remote", "needed (2 x 7.0 GiB)"),
    ],
)
def test_models_not_loaded(free, total, size, previous, expected, why):
    where, reason, unload = one(ModelState("m", size * GIB, placement=previous), free, total)
    assert where == expected
    assert why in reason
    assert not unload


def test_the_seed_example_reason_gives_the_arithmetic():
    where, reason, _ = one(ModelState("llm", 1.6 * GIB), 10.5, 32)
    assert where == "remote"
    assert reason == ("not enough RAM: 10.5 GiB free - 3.2 GiB needed (2 x 1.6 GiB) < 8.0 GiB buffer")


def test_under_pressure_the_least_recently_used_loaded_model_is_unloaded_first():
    models = [
        ModelState("old", 1.0 * GIB, loaded=True, footprint_mib=2.0 * GIB, last_used=100.0),
        ModelState("new", 1.0 * GIB, loaded=True, footprint_mib=2.0 * GIB, last_used=200.0),
    ]
    out = place(models, MemoryState(3.0 * GIB, 16 * GIB), PolicyConfig())
    assert (out["old"].where, out["old"].unload) == ("remote", True)
    assert "RAM pressure: 3.0 GiB free < 4.0 GiB buffer" in out["old"].reason
    assert "least recently used" in out["old"].reason
    assert (out["new"].where, out["new"].unload) == ("local", False)  # 3 + 2 freed = 5 >= 4


def test_severe_pressure_unloads_until_the_buffer_is_met():
    models = [
        ModelState(f"m{i}", 1.0 * GIB, loaded=True, footprint_mib=1.0 * GIB, last_used=float(i)) for i in range(4)
    ]
    out = place(models, MemoryState(1.5 * GIB, 16 * GIB), PolicyConfig())
    assert [out[f"m{i}"].where for i in range(4)] == ["remote", "remote", "remote", "local"]  # 1.5+3 >= 4


def test_a_loaded_model_is_kept_without_pressure_and_its_footprint_is_not_counted_twice():
    where, reason, unload = one(ModelState("m", 1.6 * GIB, loaded=True, footprint_mib=3 * GIB), 4.5, 16)
    assert (where, unload) == ("local", False)
    assert reason.startswith("loaded;")


def test_no_flapping_a_model_unloaded_under_pressure_does_not_reload_at_once():
    cfg = PolicyConfig()
    size = 1.6 * GIB
    # pressure: 3.9 GiB free < 4 -> unload; its 3.2 GiB come back: 7.1 GiB free
    first = place([ModelState("m", size, loaded=True, footprint_mib=3.2 * GIB)], MemoryState(3.9 * GIB, 16 * GIB), cfg)
    assert first["m"].unload
    again = place([ModelState("m", size, placement="remote")], MemoryState(7.1 * GIB, 16 * GIB), cfg)
    assert again["m"].where == "remote"  # 7.1 - 3.2 = 3.9 < 4 + 1
    eased = place([ModelState("m", size, placement="remote")], MemoryState(8.3 * GIB, 16 * GIB), cfg)
    assert eased["m"].where == "local"  # 8.3 - 3.2 = 5.1 >= 5


def test_two_unloaded_models_the_recently_used_one_gets_the_room():
    models = [ModelState("a", 2 * GIB, last_used=10.0), ModelState("b", 2 * GIB, last_used=20.0)]
    out = place(models, MemoryState(9.0 * GIB, 16 * GIB), PolicyConfig())
    assert out["b"].where == "local"  # 9 - 4 = 5 >= 4
    assert out["a"].where == "remote"  # then 5 - 4 = 1 < 4


@pytest.mark.parametrize(
    "mode, remote_ok, loaded, expected, reason, unload",
    [
        ("local", True, True, "local", "always local (setting)", False),
        ("remote", True, True, "remote", "always remote (setting)", True),
        ("remote", True, False, "remote", "always remote (setting)", False),
        ("auto", False, True, "local", "no remote endpoint configured", False),
        ("remote", False, False, "local", "no remote endpoint configured", False),
    ],
)
def test_forced_modes_and_no_endpoint(mode, remote_ok, loaded, expected, reason, unload):
    model = ModelState("m", 1.6 * GIB, loaded=loaded, remote_ok=remote_ok)
    assert one(model, 1.0, 32, mode=mode) == (expected, reason, unload)


def test_small_models_stay_local_under_pressure():
    model = ModelState("tiny", 100.0, loaded=True)
    where, reason, unload = one(model, 0.5, 16, heavy_min_mib=500)
    assert (where, unload) == ("local", False)
    assert "small model" in reason


def test_buffer_rule_and_settings():
    cfg = PolicyConfig()
    assert cfg.buffer_mib(8 * GIB) == 4 * GIB  # fixed 4 GiB wins on small machines
    assert cfg.buffer_mib(64 * GIB) == 16 * GIB  # 25 % wins on large ones
    settings = Settings(
        monitor=MonitorSettings(buffer_gib=2.0, buffer_fraction=0.1, need_factor=3.0),
        remote=RemoteSettings(placement="remote"),
    )
    cfg = PolicyConfig.from_settings(settings)
    assert (cfg.buffer_gib, cfg.buffer_fraction, cfg.need_factor, cfg.mode) == (2.0, 0.1, 3.0, "remote")
    assert PolicyConfig.from_settings(settings, mode="local").mode == "local"
    with pytest.raises(ValueError, match="placement"):
        PolicyConfig(mode="cloud")


def test_pure_same_inputs_same_answer():
    models = [ModelState("a", 2 * GIB, last_used=1.0), ModelState("b", 1 * GIB, loaded=True, last_used=2.0)]
    mem = MemoryState(5 * GIB, 16 * GIB)
    assert place(models, mem) == place(list(models), mem)
