// A batcher is checked where it is given (.batches), not at its call deep in the probes: this
// one takes its batch by value, so it could never fill the pipeline's.
// Twin: by reference.
// expect: nnprobe: this batcher cannot be called as b(ds, step, run_seed, out)
// expect: batcher_with_the_wrong_call_signature<first_rows
#include <nnprobe/pipeline.hpp>

// The first 8 samples, every step.
struct first_rows {
    template <class DS>
#ifdef NNP_TWIN
    void operator()(const DS& ds, std::size_t, nnp::seed, nnp::batch_of<DS>& out) const {
#else
    void operator()(const DS& ds, std::size_t, nnp::seed, nnp::batch_of<DS>&& out) const {
#endif
        out.resize(8);
        for (std::size_t i = 0; i < 8; ++i) nnp::detail::copy_sample(ds, i, out.x, out.y, i);
    }
};

constexpr auto net = nnp::input<4> | nnp::dense<16> | nnp::relu | nnp::dense<3>;
constexpr auto p = nnp::pipeline(nnp::data<nnp::features<4>, nnp::classes<3>>, net,
                                 nnp::softmax_cross_entropy, nnp::adam{.lr = 1e-2})
                       .batches(first_rows{});

int main() { (void)p; }
