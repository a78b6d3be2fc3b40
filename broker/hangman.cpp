// /hangman and /guess: one room-wide game per room. A guess is a letter or
// the whole word; a wrong one adds to the gallows (kHangmanLives of them end
// the game); the solver scores a point in the room's table. A game nobody
// guessed in for kHangmanIdleMs ends by itself.
#include "broker/commands.h"

#include "broker/words.h"

namespace roost {

namespace {

constexpr const char* kGallows[kHangmanLives + 1] = {
    "  +---+\n  |   |\n      |\n      |\n      |\n      |\n=========",
    "  +---+\n  |   |\n  O   |\n      |\n      |\n      |\n=========",
    "  +---+\n  |   |\n  O   |\n  |   |\n      |\n      |\n=========",
    "  +---+\n  |   |\n  O   |\n /|   |\n      |\n      |\n=========",
    "  +---+\n  |   |\n  O   |\n /|\\  |\n      |\n      |\n=========",
    "  +---+\n  |   |\n  O   |\n /|\\  |\n /    |\n      |\n=========",
    "  +---+\n  |   |\n  O   |\n /|\\  |\n / \\  |\n      |\n=========",
};

bool guessed(const HangmanGame& g, char ch) { return (g.guessed >> (ch - 'a') & 1u) != 0; }

bool solved(const HangmanGame& g) {
    for (std::uint8_t i = 0; i < g.len; ++i) {
        if (!guessed(g, g.word[i])) return false;
    }
    return true;
}

// The board: title, gallows, the word with blanks, the wrong letters.
template <std::size_t N>
void board(const HangmanGame& g, TextOut<N>& out) {
    out << "Hangman (" << g.category << ") · " << std::uint64_t{g.len} << " letters · wrong "
        << std::uint64_t{g.wrong} << " of " << std::uint64_t{kHangmanLives} << "\n"
        << kGallows[g.wrong < kHangmanLives ? g.wrong : kHangmanLives] << "\n";
    for (std::uint8_t i = 0; i < g.len; ++i) {
        const char ch[3] = {guessed(g, g.word[i]) ? static_cast<char>(g.word[i] - 'a' + 'A') : '_', ' ', '\0'};
        out << ch;
    }
    bool any = false;
    for (char ch = 'a'; ch <= 'z'; ++ch) {
        bool in_word = false;
        for (std::uint8_t i = 0; i < g.len; ++i) in_word = in_word || g.word[i] == ch;
        if (guessed(g, ch) && !in_word) {
            const char s[2] = {ch, '\0'};
            out << (any ? " " : "\nmissed: ") << s;
            any = true;
        }
    }
}

std::string_view word_of(const HangmanGame& g) { return {g.word, g.len}; }

} // namespace

void cmd_hangman(Ctx& c) {
    std::string_view rest = c.args;
    const std::string_view verb = next_word(rest);
    RoomBots& rb = BrokerForCommands::room_bots(c.b, c.ri);
    HangmanGame& g = rb.hangman;
    if (verb == "scores" && rest.empty()) {
        TextOut<512> out;
        char sc[256];
        out << "Hangman scores in #" << BrokerForCommands::room_name(c.b, c.ri) << ": " << scores_text(rb.hangman_scores, sc);
        BrokerForCommands::answer(c, MsgKind::bot, CommandRouter::kBotName, out.view(), R"({"bot":"hangman"})");
        return;
    }
    if (verb == "stop" && rest.empty()) {
        if (!g.active) {
            BrokerForCommands::error(c, Errc::bad_request, "no Hangman game is on here (/hangman start)");
            return;
        }
        TextOut<128> out;
        out << "Hangman stopped by " << BrokerForCommands::nick(c) << "; the word was " << word_of(g) << ".";
        g.active = false;
        BrokerForCommands::save(c.b, RecordTable::rooms, c.ri);
        BrokerForCommands::answer(c, MsgKind::bot, CommandRouter::kBotName, out.view(), R"({"bot":"hangman"})");
        return;
    }
    if (verb != "start") {
        TextOut<256> out;
        out << "usage: /hangman start [CATEGORY] | /hangman stop | /hangman scores; categories:";
        for (std::uint32_t i = 0; i < kHangmanCategoryCount; ++i) out << " " << kHangmanCategories[i].name;
        BrokerForCommands::error(c, Errc::bad_request, out.view());
        return;
    }
    if (g.active) {
        BrokerForCommands::error(c, Errc::bad_request, "a Hangman game is on here: /guess a letter, or /hangman stop");
        return;
    }
    const std::string_view want = next_word(rest);
    std::uint32_t cat = kNone;
    for (std::uint32_t i = 0; i < kHangmanCategoryCount; ++i) {
        if (kHangmanCategories[i].name == want) cat = i;
    }
    if (!rest.empty() || (!want.empty() && cat == kNone)) {
        TextOut<256> out;
        out << "no such category; pick one of:";
        for (std::uint32_t i = 0; i < kHangmanCategoryCount; ++i) out << " " << kHangmanCategories[i].name;
        BrokerForCommands::error(c, Errc::bad_request, out.view());
        return;
    }
    const std::uint64_t rnd = BrokerForCommands::random(c.b);
    if (cat == kNone) cat = static_cast<std::uint32_t>(rnd % kHangmanCategoryCount);
    const HangmanCategory& hc = kHangmanCategories[cat];
    const std::string_view w = hc.words[(rnd >> 8) % hc.count];
    g = HangmanGame{};
    g.active = true;
    g.len = static_cast<std::uint8_t>(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) g.word[i] = w[i];
    copy_str(g.category, hc.name);
    g.last_ms = BrokerForCommands::now(c.b);
    BrokerForCommands::save(c.b, RecordTable::rooms, c.ri);
    BrokerForCommands::wake_sweep(c.b);
    TextOut<512> out;
    board(g, out);
    out << "\nGuess with /guess LETTER or /guess WORD.";
    BrokerForCommands::answer(c, MsgKind::bot, CommandRouter::kBotName, out.view(), R"({"bot":"hangman"})");
}

void cmd_guess(Ctx& c) {
    RoomBots& rb = BrokerForCommands::room_bots(c.b, c.ri);
    HangmanGame& g = rb.hangman;
    if (!g.active) {
        BrokerForCommands::error(c, Errc::bad_request, "no Hangman game is on here (/hangman start)");
        return;
    }
    char w[16];
    std::size_t n = 0;
    for (char ch : c.args) {
        const char lo = ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
        if (lo < 'a' || lo > 'z' || n >= sizeof w) {
            BrokerForCommands::error(c, Errc::bad_request, "usage: /guess LETTER or /guess WORD (letters a-z)");
            return;
        }
        w[n++] = lo;
    }
    if (n == 0) {
        BrokerForCommands::error(c, Errc::bad_request, "usage: /guess LETTER or /guess WORD (letters a-z)");
        return;
    }
    const std::string_view who = BrokerForCommands::nick(c);
    bool hit = false;
    if (n == 1) {
        if (guessed(g, w[0])) {
            BrokerForCommands::error(c, Errc::bad_request, "that letter was guessed already");
            return;
        }
        g.guessed |= 1u << (w[0] - 'a');
        for (std::uint8_t i = 0; i < g.len; ++i) hit = hit || g.word[i] == w[0];
    } else {
        hit = std::string_view(w, n) == word_of(g);
        if (hit) {
            for (std::uint8_t i = 0; i < g.len; ++i) g.guessed |= 1u << (g.word[i] - 'a');
        }
    }
    if (!hit) ++g.wrong;
    g.last_ms = BrokerForCommands::now(c.b);
    TextOut<768> out;
    board(g, out);
    if (solved(g)) {
        g.active = false;
        add_score(rb.hangman_scores, who, 1);
        char sc[256];
        out << "\n" << who << " solved it: " << word_of(g) << "! Scores: " << scores_text(rb.hangman_scores, sc);
    } else if (g.wrong >= kHangmanLives) {
        g.active = false;
        out << "\nHanged! The word was " << word_of(g) << ".";
    } else {
        out << "\n" << who << (hit ? ": yes." : ": no.");
    }
    BrokerForCommands::save(c.b, RecordTable::rooms, c.ri);
    BrokerForCommands::answer(c, MsgKind::bot, CommandRouter::kBotName, out.view(), R"({"bot":"hangman"})");
}

bool hangman_sweep(Broker& b, std::uint64_t now) {
    bool pending = false;
    const std::uint32_t rooms = BrokerForCommands::limits(b).max_rooms;
    for (std::uint32_t ri = 0; ri < rooms; ++ri) {
        RoomBots* games = BrokerForCommands::games_of(b, ri);
        if (games == nullptr || !games->hangman.active) continue;
        RoomBots& rb = *games;
        if (now - rb.hangman.last_ms < kHangmanIdleMs) {
            pending = true;
            continue;
        }
        rb.hangman.active = false;
        BrokerForCommands::save(b, RecordTable::rooms, ri);
        TextOut<160> out;
        out << "Hangman ended: nobody guessed for 10 minutes. The word was " << word_of(rb.hangman) << ".";
        (void)BrokerForCommands::bot_say(b, ri, out.view(), R"({"bot":"hangman"})");
    }
    return pending;
}

} // namespace roost
