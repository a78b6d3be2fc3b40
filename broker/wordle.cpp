// /wordle and /w: one shared five-letter puzzle per room, up to
// kWordlePlayers players, each with their own board of kWordleRows guesses.
// Only words in the list count. The room sees each guess as tiles only
// (🟩 right place, 🟨 elsewhere in the word, ⬛ not in it); the player gets
// the row with its letters in the direct-message room with the bot. The
// first solver is announced; the puzzle ends (with a leaderboard) when every
// player is done, on /wordle end, or after kWordleIdleMs without a guess.
// `/wordle daily` is the same word for everyone on a given local day.
#include "broker/commands.h"

#include "broker/words.h"

namespace roost {

namespace {

constexpr std::string_view kUsage = "usage: /wordle [daily] | /wordle end | /wordle scores; guess with /w WORD";

// Tiles of `guess` against `answer`: 'G' right place, 'Y' elsewhere, '-'
// not in the word (a letter is yellow only as often as the answer has it
// beyond its greens).
void score(const char* guess, const char* answer, char (&tiles)[6]) {
    int left[26] = {};
    for (int i = 0; i < 5; ++i) {
        if (guess[i] == answer[i]) {
            tiles[i] = 'G';
        } else {
            tiles[i] = '-';
            ++left[answer[i] - 'a'];
        }
    }
    for (int i = 0; i < 5; ++i) {
        if (tiles[i] != 'G' && left[guess[i] - 'a'] > 0) {
            tiles[i] = 'Y';
            --left[guess[i] - 'a'];
        }
    }
    tiles[5] = '\0';
}

template <std::size_t N>
void emoji(const char (&tiles)[6], TextOut<N>& out) {
    for (int i = 0; i < 5; ++i) out << (tiles[i] == 'G' ? "🟩" : tiles[i] == 'Y' ? "🟨" : "⬛");
}

// The `n`-th answer word (counting only words marked as answers).
std::uint32_t nth_answer(std::uint64_t n) {
    std::uint32_t answers = 0;
    for (std::uint32_t i = 0; i < kWordleCount; ++i) answers += wordle_is_answer(i) ? 1 : 0;
    std::uint64_t k = n % answers;
    for (std::uint32_t i = 0; i < kWordleCount; ++i) {
        if (wordle_is_answer(i) && k-- == 0) return i;
    }
    return 0;
}

// Ends the puzzle: the word, the players best first (solved, fewest rows,
// earliest), points (7 - rows per solver) into the room's table.
void finish(Broker& b, std::uint32_t ri, RoomBots& rb, std::string_view why) {
    WordleGame& g = rb.wordle;
    g.active = false;
    const WordlePlayer* order[kWordlePlayers];
    std::uint32_t n = 0;
    auto better = [](const WordlePlayer* a, const WordlePlayer* x) {
        if (a->solved != x->solved) return a->solved;
        if (a->rows != x->rows) return a->rows < x->rows;
        return a->done_ms < x->done_ms;
    };
    for (std::uint32_t i = 0; i < g.players; ++i) {
        std::uint32_t k = n++;
        while (k > 0 && better(&g.p[i], order[k - 1])) {
            order[k] = order[k - 1];
            --k;
        }
        order[k] = &g.p[i];
    }
    TextOut<1024> out;
    char word[6] = {};
    for (int i = 0; i < 5; ++i) word[i] = static_cast<char>(g.answer[i] - 'a' + 'A');
    out << "Wordle over (" << why << "): the word was " << word << ".";
    for (std::uint32_t i = 0; i < n; ++i) {
        out << "\n" << std::uint64_t{i + 1} << ". " << order[i]->nick << " ";
        if (order[i]->solved) {
            out << std::uint64_t{order[i]->rows} << "/6";
            add_score(rb.wordle_scores, order[i]->nick, 7u - order[i]->rows);
        } else {
            out << "X/6";
        }
    }
    char sc[256];
    out << "\nScores: " << scores_text(rb.wordle_scores, sc);
    BrokerForCommands::save(b, RecordTable::rooms, ri);
    (void)BrokerForCommands::bot_say(b, ri, out.view(), R"({"bot":"wordle","over":true})");
}

void start(Ctx& c, RoomBots& rb, bool daily) {
    WordleGame& g = rb.wordle;
    const std::uint64_t now = BrokerForCommands::now(c.b);
    std::uint64_t pick = BrokerForCommands::random(c.b);
    if (daily) {
        // The local day's number, mixed: one word per day, the same everywhere.
        pick = static_cast<std::uint64_t>(static_cast<std::int64_t>(now) +
                                          std::int64_t{BrokerForCommands::utc_offset_min(c.b, now)} * 60000) /
               86400000;
        pick = (pick ^ 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
        pick ^= pick >> 31;
    }
    const std::string_view w = wordle_word(nth_answer(pick));
    g = WordleGame{};
    g.active = true;
    g.daily = daily;
    for (int i = 0; i < 5; ++i) g.answer[i] = w[static_cast<std::size_t>(i)];
    g.started_ms = g.last_ms = now;
    BrokerForCommands::save(c.b, RecordTable::rooms, c.ri);
    BrokerForCommands::wake_sweep(c.b);
    BrokerForCommands::answer(c, MsgKind::bot, CommandRouter::kBotName,
                          daily ? "Today's Wordle is on: guess the five-letter word with /w WORD (6 tries each)."
                                : "A Wordle is on: guess the five-letter word with /w WORD (6 tries each).",
                          R"({"bot":"wordle"})");
}

} // namespace

void cmd_wordle(Ctx& c) {
    std::string_view rest = c.args;
    const std::string_view verb = next_word(rest);
    RoomBots& rb = BrokerForCommands::room_bots(c.b, c.ri);
    if (!rest.empty() || (!verb.empty() && verb != "daily" && verb != "end" && verb != "scores")) {
        BrokerForCommands::error(c, Errc::bad_request, kUsage);
        return;
    }
    if (verb == "scores") {
        TextOut<512> out;
        char sc[256];
        out << "Wordle scores in #" << BrokerForCommands::room_name(c.b, c.ri) << ": " << scores_text(rb.wordle_scores, sc);
        BrokerForCommands::answer(c, MsgKind::bot, CommandRouter::kBotName, out.view(), R"({"bot":"wordle"})");
        return;
    }
    if (verb == "end") {
        if (!rb.wordle.active) {
            BrokerForCommands::error(c, Errc::bad_request, "no Wordle is on here (/wordle starts one)");
            return;
        }
        finish(c.b, c.ri, rb, "ended");
        BrokerForCommands::answer_private(c, "You ended the Wordle.", R"({"bot":"wordle"})");
        return;
    }
    if (rb.wordle.active) {
        BrokerForCommands::error(c, Errc::bad_request, "a Wordle is on here: /w WORD to play, /wordle end to stop it");
        return;
    }
    start(c, rb, verb == "daily");
}

void cmd_w(Ctx& c) {
    RoomBots& rb = BrokerForCommands::room_bots(c.b, c.ri);
    WordleGame& g = rb.wordle;
    if (!g.active) {
        BrokerForCommands::error(c, Errc::bad_request, "no Wordle is on here (/wordle starts one)");
        return;
    }
    char w[5];
    bool ok = c.args.size() == 5;
    for (std::size_t i = 0; ok && i < 5; ++i) {
        const char ch = c.args[i];
        w[i] = ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
        ok = w[i] >= 'a' && w[i] <= 'z';
    }
    if (!ok) {
        BrokerForCommands::error(c, Errc::bad_request, "usage: /w WORD (five letters)");
        return;
    }
    if (wordle_find({w, 5}) < 0) {
        BrokerForCommands::error(c, Errc::bad_request, "not in the word list; that guess does not count");
        return;
    }
    const std::string_view who = BrokerForCommands::nick(c);
    char a[kNickMax + 1], b[kNickMax + 1];
    const std::string_view me = fold_nick(who, a, sizeof a);
    WordlePlayer* p = nullptr;
    for (std::uint32_t i = 0; i < g.players && p == nullptr; ++i) {
        if (fold_nick(g.p[i].nick, b, sizeof b) == me) p = &g.p[i];
    }
    if (p == nullptr) {
        if (g.players >= kWordlePlayers) {
            BrokerForCommands::error(c, Errc::server_busy, "this puzzle has as many players as it takes (16)");
            return;
        }
        p = &g.p[g.players++];
        *p = WordlePlayer{};
        copy_str(p->nick, who);
    }
    if (p->solved || p->rows >= kWordleRows) {
        BrokerForCommands::error(c, Errc::bad_request, "you are done with this puzzle; wait for the others or /wordle end");
        return;
    }
    const std::uint64_t now = BrokerForCommands::now(c.b);
    for (int i = 0; i < 5; ++i) p->guesses[p->rows][i] = w[i];
    ++p->rows;
    g.last_ms = now;
    char tiles[6];
    score(w, g.answer, tiles);
    const bool won = std::string_view(tiles, 5) == "GGGGG";
    if (won || p->rows >= kWordleRows) {
        p->solved = won;
        p->done_ms = now;
        ++g.finished;
    }
    // Privately: the row with its letters.
    char upper[6] = {};
    for (int i = 0; i < 5; ++i) upper[i] = static_cast<char>(w[i] - 'a' + 'A');
    TextOut<160> mine;
    mine << upper << " ";
    emoji(tiles, mine);
    mine << " " << std::uint64_t{p->rows} << "/6";
    TextOut<128> mine_data;
    mine_data << R"({"bot":"wordle","guess":")" << upper << R"(","tiles":")" << tiles << R"(","row":)"
              << std::uint64_t{p->rows} << "}";
    (void)BrokerForCommands::bot_dm(c.b, who, mine.view(), mine_data.view());
    // In the room: tiles only.
    TextOut<400> out;
    out << who << " ";
    emoji(tiles, out);
    out << " " << std::uint64_t{p->rows} << "/6";
    if (won && g.first[0] == '\0') {
        copy_str(g.first, who);
        out << "\n🎉 " << who << " solved it first, in " << std::uint64_t{p->rows} << "!";
    } else if (won) {
        out << " solved!";
    } else if (p->rows >= kWordleRows) {
        out << " out of tries.";
    }
    TextOut<160> data;
    data << R"({"bot":"wordle","nick":")" << who << R"(","tiles":")" << tiles << R"(","row":)" << std::uint64_t{p->rows}
         << "}";
    BrokerForCommands::save(c.b, RecordTable::rooms, c.ri);
    BrokerForCommands::answer(c, MsgKind::bot, CommandRouter::kBotName, out.view(), data.view());
    if (g.finished == g.players) {
        finish(c.b, c.ri, rb, "everyone is done");
    }
}

bool wordle_sweep(Broker& b, std::uint64_t now) {
    bool pending = false;
    const std::uint32_t rooms = BrokerForCommands::limits(b).max_rooms;
    for (std::uint32_t ri = 0; ri < rooms; ++ri) {
        RoomBots* games = BrokerForCommands::games_of(b, ri);
        if (games == nullptr || !games->wordle.active) continue;
        RoomBots& rb = *games;
        if (now - rb.wordle.last_ms < kWordleIdleMs) {
            pending = true;
            continue;
        }
        finish(b, ri, rb, "nobody guessed for 30 minutes");
    }
    return pending;
}

} // namespace roost
