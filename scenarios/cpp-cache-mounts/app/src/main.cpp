#include <fstream>
#include <iostream>

#include "logstat.hpp"

int main(int argc, char **argv) {
    try {
        Options options = parse_options(argc, argv);
        std::vector<Request> requests;
        if (options.input.empty() || options.input == "-") {
            requests = parse_log(std::cin);
        } else {
            std::ifstream file(options.input);
            if (!file) {
                std::cerr << "logstat: cannot open " << options.input << "\n";
                return 1;
            }
            requests = parse_log(file);
        }
        std::cout << to_json(summarise(requests), options.pretty) << "\n";
    } catch (const std::exception &error) {
        std::cerr << "logstat: " << error.what() << "\n";
        return 2;
    }
}
