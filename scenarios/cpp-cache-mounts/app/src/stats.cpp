#include <algorithm>
#include <boost/accumulators/accumulators.hpp>
#include <boost/accumulators/statistics/max.hpp>
#include <boost/accumulators/statistics/mean.hpp>
#include <boost/accumulators/statistics/stats.hpp>
#include <cmath>

#include "logstat.hpp"

namespace acc = boost::accumulators;

Summary summarise(const std::vector<Request> &requests) {
    Summary summary;
    acc::accumulator_set<double, acc::stats<acc::tag::mean, acc::tag::max>> times;
    std::vector<double> sorted;
    for (const Request &request : requests) {
        times(request.seconds);
        sorted.push_back(request.seconds);
        summary.statuses[request.status] += 1;
    }
    summary.requests = requests.size();
    if (!requests.empty()) {
        summary.mean_seconds = acc::mean(times);
        summary.max_seconds = acc::max(times);
        std::sort(sorted.begin(), sorted.end());
        auto rank = static_cast<std::size_t>(std::ceil(0.95 * sorted.size())) - 1;
        summary.p95_seconds = sorted[rank];
    }
    return summary;
}
