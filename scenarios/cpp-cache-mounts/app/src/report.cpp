#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <sstream>

#include "logstat.hpp"

// Which build made this binary; incremental runs rewrite it (see scenario.toml), so that their
// edit reaches the shipped binary, which a comment would not: the compiler drops comments.
static const char *const BUILD = "stagebench-token";

std::string to_json(const Summary &summary, bool pretty) {
    boost::property_tree::ptree root;
    root.put("build", BUILD);
    root.put("requests", summary.requests);
    root.put("mean_seconds", summary.mean_seconds);
    root.put("max_seconds", summary.max_seconds);
    root.put("p95_seconds", summary.p95_seconds);
    boost::property_tree::ptree statuses;
    for (const auto &[status, count] : summary.statuses) {
        statuses.put(std::to_string(status), count);
    }
    root.add_child("statuses", statuses);
    std::ostringstream out;
    boost::property_tree::write_json(out, root, pretty);
    std::string text = out.str();
    while (!text.empty() && text.back() == '\n') {
        text.pop_back();
    }
    return text;
}
