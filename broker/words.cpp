// The games' words: Hangman's five categories of everyday words (lower
// case a-z, 4 to 12 letters), written for the project, and the lookup in
// the Wordle list that cmake/gen-words.cmake generates at build time.
#include "broker/words.h"

#include <cstring>

namespace roost {

namespace {

const std::string_view kAnimals[] = {
    "badger", "beaver", "buffalo", "camel", "cheetah", "dolphin", "donkey", "eagle", "falcon", "ferret",
    "giraffe", "gorilla", "hamster", "hedgehog", "jaguar", "kangaroo", "koala", "leopard", "lizard", "lobster",
    "meerkat", "octopus", "ostrich", "panther", "parrot", "pelican", "penguin", "rabbit", "raccoon", "reindeer",
    "salmon", "scorpion", "squirrel", "tortoise", "walrus", "weasel", "wombat", "zebra"};
const std::string_view kFood[] = {
    "apricot", "avocado", "biscuit", "broccoli", "cabbage", "carrot", "cheddar", "cherry", "chocolate",
    "coconut", "cucumber", "dumpling", "garlic", "lasagna", "lemonade", "mango", "meatball", "muffin",
    "mushroom", "noodle", "omelette", "pancake", "peanut", "pepper", "pickle", "pineapple", "popcorn",
    "porridge", "pretzel", "pumpkin", "radish", "sandwich", "spinach", "strawberry", "tomato", "waffle"};
const std::string_view kHome[] = {
    "bathtub", "blanket", "bookcase", "candle", "carpet", "ceiling", "chimney", "cupboard", "curtain",
    "doorbell", "drawer", "faucet", "fireplace", "garage", "hallway", "kettle", "kitchen", "ladder", "lampshade",
    "mailbox", "mattress", "microwave", "mirror", "pillow", "radiator", "staircase", "teapot", "toaster",
    "wardrobe", "window"};
const std::string_view kTech[] = {
    "antenna", "battery", "browser", "circuit", "compiler", "database", "debugger", "firmware", "gateway",
    "hardware", "keyboard", "laptop", "network", "printer", "processor", "protocol", "raspberry", "resistor",
    "router", "satellite", "sensor", "server", "socket", "software", "soldering", "terminal", "transistor",
    "voltage", "website", "wireless"};
const std::string_view kNature[] = {
    "avalanche", "blizzard", "canyon", "cascade", "cliff", "comet", "desert", "eclipse", "forest", "galaxy",
    "geyser", "glacier", "horizon", "island", "jungle", "lagoon", "lightning", "meadow", "meteor", "monsoon",
    "mountain", "planet", "rainbow", "savanna", "thunder", "tornado", "valley", "volcano", "waterfall"};

template <std::size_t N>
constexpr std::uint32_t count(const std::string_view (&)[N]) {
    return static_cast<std::uint32_t>(N);
}

} // namespace

const HangmanCategory kHangmanCategories[] = {
    {"animals", kAnimals, count(kAnimals)}, {"food", kFood, count(kFood)},       {"home", kHome, count(kHome)},
    {"tech", kTech, count(kTech)},          {"nature", kNature, count(kNature)},
};
const std::uint32_t kHangmanCategoryCount = sizeof kHangmanCategories / sizeof kHangmanCategories[0];

std::int32_t wordle_find(std::string_view w) {
    if (w.size() != 5) return -1;
    std::int32_t lo = 0, hi = static_cast<std::int32_t>(kWordleCount) - 1;
    while (lo <= hi) {
        const std::int32_t mid = lo + (hi - lo) / 2;
        const int c = std::memcmp(kWordleWords + 5 * static_cast<std::size_t>(mid), w.data(), 5);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

} // namespace roost
