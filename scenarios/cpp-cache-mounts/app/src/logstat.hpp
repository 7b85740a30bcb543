// logstat: summarises an access log (status codes, request times) as JSON.
#pragma once

#include <map>
#include <string>
#include <vector>

struct Options {
    std::string input;
    bool pretty = false;
};

struct Request {
    std::string method;
    std::string path;
    int status = 0;
    double seconds = 0.0;
};

struct Summary {
    std::size_t requests = 0;
    std::map<int, std::size_t> statuses;
    double mean_seconds = 0.0;
    double max_seconds = 0.0;
    double p95_seconds = 0.0;
};

Options parse_options(int argc, char **argv);
std::vector<Request> parse_log(std::istream &in);
Summary summarise(const std::vector<Request> &requests);
std::string to_json(const Summary &summary, bool pretty);
