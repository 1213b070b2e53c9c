"""LocalAgreement-2, the stable-prefix policy of partial transcripts (pure logic, no model)."""

from __future__ import annotations

from jarvis_desktop.stt.partials import LocalAgreement, PartialText, common_prefix


def test_common_prefix_ignores_case_and_edge_punctuation():
    assert common_prefix(["Set", "a", "timer,"], ["set", "A", "timer", "for"]) == 3
    assert common_prefix(["set", "a", "time"], ["set", "a", "timer"]) == 2
    assert common_prefix([], ["set"]) == 0
    assert common_prefix(["don't"], ["Don't."]) == 1


def test_first_hypothesis_is_all_unstable():
    agreement = LocalAgreement()
    assert agreement.update("Set a") == PartialText("", "Set a")


def test_stable_is_the_prefix_two_hypotheses_agree_on():
    agreement = LocalAgreement()
    agreement.update("Set a time")
    part = agreement.update("set a timer for")
    assert part == PartialText("set a", "timer for")
    part = agreement.update("Set a timer for ten minutes.")
    assert part.stable == "Set a timer for" and part.unstable == "ten minutes."
    assert part.text == "Set a timer for ten minutes."
    assert agreement.committed == "Set a timer for"


def test_committed_words_are_never_taken_back():
    agreement = LocalAgreement()
    agreement.update("remind me to call")
    assert agreement.update("remind me to call mom").stable == "remind me to call"
    part = agreement.update("remind me to fall mom tomorrow")  # a worse decode disagrees with a committed word
    assert part.stable == "remind me to call" and part.unstable == "mom tomorrow"
    # the committed prefix only grows again when the new hypotheses agree with it
    assert agreement.update("remind me to call mom tomorrow at").stable == "remind me to call"
    assert agreement.update("remind me to call mom tomorrow at nine").stable == "remind me to call mom tomorrow at"


def test_shorter_hypothesis_and_reset():
    agreement = LocalAgreement()
    agreement.update("what time is it")
    agreement.update("what time is it")
    assert agreement.update("what time") == PartialText("what time is it", "")
    agreement.reset()
    assert agreement.committed == "" and agreement.update("hello") == PartialText("", "hello")
