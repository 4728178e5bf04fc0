package dev.delora.djl.hf.chat;

import java.util.Objects;

/**
 * One message of a conversation, as transformers' {@code {"role": ..., "content": ...}} dict.
 *
 * @param role the speaker ({@code "system"}, {@code "user"}, {@code "assistant"}, {@code "tool"}, ...)
 * @param content the text, or {@code null} (the template sees {@code None})
 */
public record ChatMessage(String role, String content) {

    /** Checks the role. */
    public ChatMessage {
        Objects.requireNonNull(role, "role");
    }

    /**
     * A system message.
     *
     * @param content the text
     * @return the message
     */
    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    /**
     * A user message.
     *
     * @param content the text
     * @return the message
     */
    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    /**
     * An assistant message.
     *
     * @param content the text
     * @return the message
     */
    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
