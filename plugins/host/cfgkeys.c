/* cfgkeys.c: what pjreddie's parser reads (parser.c of the version Debian packages; facts
 * read from its source, not its code), for the cfg check (cfgcheck.c): per section type the
 * keys its parse function reads, the keys read for every layer, the [net] keys of
 * parse_net_options plus those of our own schedules (plugins/train/schedule.c), and the
 * activation names of get_activation() (activations.c: any other name becomes relu). */
#include "host_cfgcheck.h"

static const host_cfg_section SECTIONS[] = {
    { " [net] [network] ", "", 0 },   /* [net] is checked against net_keys */
    { " [conv] [convolutional] ", " filters size stride pad padding groups batch_normalize binary xnor flipped dot ", 1 },
    { " [deconv] [deconvolutional] ", " filters size stride pad padding batch_normalize ", 1 },
    { " [local] ", " filters size stride pad ", 1 },
    { " [activation] ", " ", 1 },
    { " [logistic] ", " ", 0 },
    { " [l2norm] ", " ", 0 },
    { " [rnn] ", " output batch_normalize shortcut ", 1 },
    { " [gru] ", " output batch_normalize tanh ", 0 },
    { " [lstm] ", " output batch_normalize ", 0 },
    { " [crnn] ", " output_filters hidden_filters batch_normalize shortcut ", 1 },
    { " [conn] [connected] ", " output batch_normalize ", 1 },
    { " [crop] ", " crop_height crop_width flip angle saturation exposure noadjust shift ", 0 },
    { " [cost] ", " type scale ratio noobj thresh ", 0 },
    { " [soft] [softmax] ", " groups temperature tree spatial noloss ", 0 },
    { " [lrn] [normalization] ", " alpha beta kappa size ", 0 },
    { " [batchnorm] ", " ", 0 },
    { " [max] [maxpool] ", " stride size padding ", 0 },
    { " [reorg] ", " stride reverse flatten extra ", 0 },
    { " [avg] [avgpool] ", " ", 0 },
    { " [route] ", " layers ", 0 },
    { " [upsample] ", " stride scale ", 0 },
    { " [shortcut] ", " from alpha beta ", 1 },
    { " [dropout] ", " probability ", 0 },
    { " [detection] ", NULL, 0 },
    { " [region] ", NULL, 0 },
    { " [yolo] ", NULL, 0 },
    { " [iseg] ", NULL, 0 },
};

static const host_cfg_index INDICES[] = {
    { "[route]", "layers", 1 },
    { "[shortcut]", "from", 0 },
};

const host_cfg_dialect host__cfg = {
    .sections = SECTIONS,
    .nsections = (int)(sizeof SECTIONS / sizeof SECTIONS[0]),
    .common_keys = " truth onlyforward stopbackward dontsave dontload numload dontloadscales learning_rate smooth ",
    .net_keys = " batch learning_rate momentum decay subdivisions time_steps notruth random adam height width "
        "channels inputs max_crop min_crop max_ratio min_ratio center clip angle aspect saturation "
        "exposure hue policy burn_in power max_batches "
        /* our schedules (plugins/train/schedule.c) */
        " learning_rate_min fge_cycle fge_cycle_epochs sgdr_cycle sgdr_cycle_epochs sgdr_mult ",
    .steps_keys = " steps scales ",
    .activations = " logistic loggy relu elu selu relie plse hardtan lhtan linear ramp leaky tanh stair ",
    .indices = INDICES,
    .nindices = (int)(sizeof INDICES / sizeof INDICES[0]),
    .refuse_recurrent = 1,
};
