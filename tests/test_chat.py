"""The local chat model on the real embedded SmolLM2-135M-Instruct GGUF: streaming, stats, cancel,
bad model files, and history trimming to the context window."""

from __future__ import annotations

import threading

import pytest

from jarvis_desktop.config import ChatSettings, Settings
from jarvis_desktop.errors import BadInputError, ModelNotFoundError
from jarvis_desktop.llm import LocalChatModel
from jarvis_desktop.models import embedded_chat_gguf

pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]


@pytest.fixture(scope="module")
def model():
    chat = LocalChatModel.from_settings(Settings())
    chat.load()
    return chat


def test_a_short_question_streams_a_sensible_answer_with_stats(model):
    chunks = list(model.stream(QUESTION, temperature=0.0))
    assert len(chunks) >= 2
    assert all(chunk for chunk in chunks)
    answer = "".join(chunks).strip()
    assert "paris" in answer.lower()
    stats = model.last_stats
    assert stats is not None and not stats.cancelled
    assert stats.first_token_s > 0
    assert stats.tokens_per_s > 0
    assert stats.total_s >= stats.first_token_s
    assert stats.prompt_tokens > 10  # system prompt + question, through the chat template
    assert stats.completion_tokens >= 2
    assert model.load_seconds is not None and model.load_seconds > 0


def test_the_system_prompt_from_the_settings_comes_first(model):
    prompt = model.build_prompt(QUESTION)
    assert prompt[0] == {"role": "system", "content": model.options.system_prompt}
    assert prompt[1:] == QUESTION
    own = [{"role": "system", "content": "Reply in French."}] + QUESTION
    assert model.build_prompt(own) == own  # a caller's own system message is kept, not doubled


def test_cancel_after_the_first_chunk_stops_the_stream(model):
    cancel = threading.Event()
    story = [{"role": "user", "content": "Write a long story about a dragon who learns to cook."}]
    received = []
    for chunk in model.stream(story, max_tokens=200, cancel=cancel):
        received.append(chunk)
        cancel.set()
    assert 1 <= len(received) <= 3
    assert model.last_stats.cancelled
    assert model.last_stats.completion_tokens < 10
    # The model is free again: a new reply streams normally.
    assert model.complete(QUESTION, max_tokens=16)


def test_a_caller_breaking_off_frees_the_model_for_other_threads(model):
    stream = model.stream([{"role": "user", "content": "Count from one to fifty."}], max_tokens=100)
    next(stream)
    stream.close()  # the GUI dropped the stream
    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(model.complete(QUESTION, max_tokens=16)))
    worker.start()
    worker.join(timeout=30)
    assert results and results[0]


def test_two_threads_asking_at_once_both_get_answers(model):
    answers: dict[int, str] = {}

    def ask(n: int) -> None:
        answers[n] = model.complete([{"role": "user", "content": f"Say hello to user number {n}."}], max_tokens=24)

    threads = [threading.Thread(target=ask, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(answers) == {1, 2}
    assert all(answer.strip() for answer in answers.values())


def test_a_missing_model_file_is_model_not_found(tmp_path):
    with pytest.raises(ModelNotFoundError, match="not found"):
        LocalChatModel(tmp_path / "nowhere.gguf")
    settings = Settings(chat=ChatSettings(model_path=str(tmp_path / "nowhere.gguf")))
    with pytest.raises(ModelNotFoundError):
        LocalChatModel.from_settings(settings)


def test_a_text_file_renamed_gguf_is_model_not_found(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_text("this is not a model\n")
    with pytest.raises(ModelNotFoundError, match="not a GGUF"):
        LocalChatModel(fake)


def test_a_truncated_gguf_is_model_not_found_without_stderr_noise(tmp_path, capfd):
    real = embedded_chat_gguf()
    truncated = tmp_path / "truncated.gguf"
    with real.open("rb") as handle:
        truncated.write_bytes(handle.read(2_000_000))  # valid header, missing tensors
    chat = LocalChatModel(truncated)
    capfd.readouterr()
    with pytest.raises(ModelNotFoundError, match="corrupt"):
        chat.stream(QUESTION)  # raises when called, not mid-iteration
    assert capfd.readouterr().err.strip() == ""  # llama.cpp's C-level log stays quiet


def test_bad_messages_are_bad_input(model):
    with pytest.raises(BadInputError):
        model.complete([])
    with pytest.raises(BadInputError, match="role"):
        model.complete([{"role": "robot", "content": "hi"}])
    with pytest.raises(BadInputError, match="max_tokens"):
        model.complete(QUESTION, max_tokens=0)


def test_history_is_trimmed_to_the_newest_turns_that_fit_the_context():
    options = ChatSettings(n_ctx=512, max_tokens=64)
    chat = LocalChatModel(embedded_chat_gguf(), options)
    history = []
    for i in range(40):
        history.append({"role": "user", "content": f"Turn {i}: tell me something about the number {i}."})
        history.append(
            {
                "role": "assistant",
                "content": f"The number {i} comes after {i - 1} and before "
                f"{i + 1}; it is {'even' if i % 2 == 0 else 'odd'}.",
            }
        )
    history.append({"role": "user", "content": "Which turn number came last?"})

    prompt = chat.build_prompt(history)
    assert prompt[0]["role"] == "system"
    kept = prompt[1:]
    assert kept[-1] == history[-1]
    assert kept == history[-len(kept) :]  # a contiguous run of the newest messages
    assert kept[0]["role"] == "user"
    assert 3 <= len(kept) < len(history)
    assert chat.count_tokens(prompt) + options.max_tokens <= options.n_ctx

    # The full history streams (llama.cpp would refuse a prompt over n_ctx).
    reply = chat.complete(history, max_tokens=16)
    assert reply
    assert chat.last_stats.prompt_tokens + chat.last_stats.completion_tokens <= options.n_ctx


def test_one_over_long_message_is_shortened_to_fit():
    options = ChatSettings(n_ctx=256, max_tokens=32)
    chat = LocalChatModel(embedded_chat_gguf(), options)
    words = " ".join(f"word{i}" for i in range(1500))
    message = [{"role": "user", "content": f"Summarise this: {words} What is the first word?"}]
    prompt = chat.build_prompt(message)
    assert chat.count_tokens(prompt) + options.max_tokens <= options.n_ctx
    assert prompt[-1]["content"].startswith("Summarise this:")
    assert prompt[-1]["content"].endswith("What is the first word?")
    assert chat.complete(message, max_tokens=8)
