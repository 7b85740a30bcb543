#include <boost/algorithm/string.hpp>
#include <boost/lexical_cast.hpp>
#include <istream>
#include <regex>

#include "logstat.hpp"

// One line: METHOD PATH STATUS SECONDS, e.g. `GET /index.html 200 0.012`.
std::vector<Request> parse_log(std::istream &in) {
    static const std::regex line_format(R"(^\s*([A-Z]+)\s+(\S+)\s+(\d{3})\s+([0-9.]+)\s*$)");
    std::vector<Request> requests;
    std::string line;
    while (std::getline(in, line)) {
        boost::algorithm::trim(line);
        std::smatch match;
        if (line.empty() || !std::regex_match(line, match, line_format)) {
            continue;
        }
        Request request;
        request.method = boost::algorithm::to_upper_copy(match[1].str());
        request.path = match[2].str();
        request.status = boost::lexical_cast<int>(match[3].str());
        request.seconds = boost::lexical_cast<double>(match[4].str());
        requests.push_back(std::move(request));
    }
    return requests;
}
