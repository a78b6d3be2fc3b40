// What a client of the core would see, for the chat tests: a BrokerFixture
// that opens sessions, says hello, and drains every pending frame as parsed
// events (a batch is split into its events), plus small readers of them.
// The frames' headroom is scribbled on, so no test leans on its contents.
#pragma once

#include "tests/support/broker_fixture.h"
#include "tests/support/unit.h"

#include <cjson/cJSON.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace roost_test {

using roost::SessionId;

// One parsed server event (a flattened copy of what the client would see).
struct Event {
    std::string type;
    std::string json; // the event's own JSON text
    cJSON* obj = nullptr;
};

struct Harness : BrokerFixture {
    std::vector<cJSON*> trees;

    explicit Harness(const roost::CoreLimits& l = roost::CoreLimits{}) : BrokerFixture(l, 42) {}
    ~Harness() {
        for (cJSON* t : trees) cJSON_Delete(t);
    }
    SessionId open() {
        const std::uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
        return broker->open_session(addr);
    }
    // Everything pending for `s`, as events; `frames` counts frames written.
    std::vector<Event> drain(SessionId s, int* frames = nullptr, int max_frames = 1 << 30) {
        std::vector<Event> out;
        roost::Frame f;
        int n = 0;
        while (n < max_frames && broker->next_frame(s, f)) {
            ++n;
            // The headroom in front of the frame is writable scratch: scribble on it.
            std::memset(f.data - limits.headroom, 0xAA, limits.headroom);
            const char* end = nullptr;
            cJSON* t = cJSON_ParseWithLengthOpts(f.data, f.len, &end, 0);
            if (t != nullptr && end != f.data + f.len) { // trailing bytes: not one JSON value
                cJSON_Delete(t);
                t = nullptr;
            }
            if (t == nullptr) fail_msg("frame is not JSON: %.*s", static_cast<int>(f.len), f.data);
            trees.push_back(t);
            auto add = [&](cJSON* o) {
                Event e;
                cJSON* ty = cJSON_GetObjectItemCaseSensitive(o, "type");
                e.type = cJSON_IsString(ty) ? ty->valuestring : "";
                char* txt = cJSON_PrintUnformatted(o);
                e.json = txt;
                cJSON_free(txt);
                e.obj = o;
                out.push_back(e);
            };
            if (cJSON_IsArray(t)) {
                assert_true(cJSON_GetArraySize(t) >= 2); // a batch is never an array of one
                cJSON* o;
                cJSON_ArrayForEach(o, t) add(o);
            } else {
                add(t);
            }
        }
        if (frames) *frames = n;
        return out;
    }
    SessionId hello(const std::string& nick, const std::string& extra = "") {
        SessionId s = open();
        assert_int_not_equal(s, 0);
        send(s, "{\"type\":\"hello\",\"nick\":\"" + nick + "\"" + extra + "}");
        return s;
    }
};

inline std::string str(const Event& e, const char* field) {
    cJSON* v = cJSON_GetObjectItemCaseSensitive(e.obj, field);
    return cJSON_IsString(v) ? v->valuestring : "";
}
inline double num(const Event& e, const char* field) {
    cJSON* v = cJSON_GetObjectItemCaseSensitive(e.obj, field);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}
inline bool flag(const Event& e, const char* field) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e.obj, field)); }

inline const Event* find(const std::vector<Event>& ev, const std::string& type, std::size_t nth = 0) {
    for (const Event& e : ev) {
        if (e.type == type && nth-- == 0) return &e;
    }
    return nullptr;
}
inline std::size_t count(const std::vector<Event>& ev, const std::string& type) {
    return static_cast<std::size_t>(std::count_if(ev.begin(), ev.end(), [&](const Event& e) { return e.type == type; }));
}
inline std::string error_code(const std::vector<Event>& ev) {
    const Event* e = find(ev, "error");
    return e ? str(*e, "code") : "";
}

} // namespace roost_test
