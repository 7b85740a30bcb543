#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>

#include "logstat.hpp"

namespace po = boost::program_options;

Options parse_options(int argc, char **argv) {
    Options options;
    po::options_description described("logstat [--pretty] [FILE]");
    described.add_options()
        ("help,h", "show this help")
        ("pretty", po::bool_switch(&options.pretty), "indent the JSON")
        ("input", po::value<std::string>(&options.input)->default_value("-"), "access log (- for stdin)");
    po::positional_options_description positional;
    positional.add("input", 1);
    po::variables_map values;
    po::store(po::command_line_parser(argc, argv).options(described).positional(positional).run(), values);
    po::notify(values);
    if (values.count("help")) {
        std::cout << described << "\n";
        std::exit(0);
    }
    return options;
}
