// Built-in word lists of the games. Wordle's come from Debian's wamerican at
// build time (cmake/gen-words.cmake says how they are filtered); Hangman's
// are written for the project (broker/words.cpp).
#pragma once

#include <cstdint>
#include <string_view>

namespace roost {

extern const char kWordleWords[];     // kWordleCount five-letter words, sorted, concatenated
extern const std::uint32_t kWordleCount;
extern const unsigned char kWordleAnswer[]; // bit i: word i may be an answer

// Word i of the Wordle list.
inline std::string_view wordle_word(std::uint32_t i) { return {kWordleWords + 5 * std::size_t{i}, 5}; }
inline bool wordle_is_answer(std::uint32_t i) { return (kWordleAnswer[i / 8] >> (i % 8) & 1u) != 0; }
// The index of `w` (five letters a-z) in the list, or -1: a binary search.
std::int32_t wordle_find(std::string_view w);

// Hangman: categories of words (lower case a-z, 4 to 12 letters).
struct HangmanCategory {
    std::string_view name;
    const std::string_view* words;
    std::uint32_t count;
};
extern const HangmanCategory kHangmanCategories[];
extern const std::uint32_t kHangmanCategoryCount;

} // namespace roost
