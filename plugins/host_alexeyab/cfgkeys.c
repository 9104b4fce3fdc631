/* cfgkeys.c of the second host: what AlexeyAB's parser reads (third_party/alexeyab, 59596d78:
 * its src/parser.c and activations.c; facts read from the source, not its code), for the cfg
 * check (host/cfgcheck.c). Per section type of string_to_layer_type, the keys its parse
 * function reads; the keys parse_network_cfg_custom reads for every layer; the [net] keys of
 * parse_net_options (B1/B2/eps with adam=1, step/scale, gamma and steps/scales/seq_scales
 * only with their policies, as there) plus those of our own schedules; the activation names of
 * get_activation() (any other name: "Couldn't find activation function", relu). pjreddie's
 * [deconvolutional], [logistic], [l2norm] and [iseg] are not sections of this parser (it
 * prints "Type not recognized" and goes on), so they are unknown sections here. */
#include "host_cfgcheck.h"

static const host_cfg_section SECTIONS[] = {
    { " [net] [network] ", "", 0 },   /* [net] is checked against net_keys */
    { " [conv] [convolutional] ", " filters groups size stride stride_x stride_y dilation antialiasing pad padding "
      "assisted_excitation share_index batch_normalize cbn binary xnor bin_output sway rotate stretch stretch_sway "
      "flipped dot angle grad_centr reverse coordconv stream wait_stream ", 1 },
    { " [local] ", " filters size stride pad ", 1 },
    { " [activation] ", " ", 1 },
    { " [rnn] ", " output hidden batch_normalize logistic shortcut ", 1 },
    { " [gru] ", " output batch_normalize ", 0 },
    { " [lstm] ", " output batch_normalize ", 0 },
    { " [conv_lstm] ", " size stride dilation pad padding output groups batch_normalize xnor peephole bottleneck "
      "state_constrain shortcut lstm_activation time_normalizer ", 1 },
    { " [history] ", " history_size ", 0 },
    { " [crnn] ", " size stride dilation pad padding output hidden groups batch_normalize xnor shortcut ", 1 },
    { " [conn] [connected] ", " output batch_normalize ", 1 },
    { " [crop] ", " crop_height crop_width flip angle saturation exposure noadjust shift ", 0 },
    { " [cost] ", " type scale ratio ", 0 },
    { " [soft] [softmax] ", " groups temperature tree spatial noloss ", 0 },
    { " [contrastive] ", " classes yolo_layer temperature cls_normalizer max_delta contrastive_neg_max ", 0 },
    { " [lrn] [normalization] ", " alpha beta kappa size ", 0 },
    { " [batchnorm] ", " ", 0 },
    { " [max] [maxpool] ", " stride stride_x stride_y size padding maxpool_depth out_channels antialiasing "
      "maxpool_zero_nonmax ", 0 },
    { " [local_avg] [local_avgpool] ", " stride stride_x stride_y size padding ", 0 },
    { " [reorg3d] ", " stride reverse ", 0 },
    { " [reorg] ", " stride reverse ", 0 },
    { " [avg] [avgpool] ", " ", 0 },
    { " [route] ", " layers groups group_id stream wait_stream ", 0 },
    { " [upsample] ", " stride scale ", 0 },
    { " [shortcut] ", " weights_type weights_normalization from ", 1 },
    { " [scale_channels] ", " from scale_wh ", 1 },
    { " [sam] ", " from ", 1 },
    { " [implicit] ", " mean std filters atoms ", 0 },
    { " [dropout] ", " probability dropblock dropblock_size_rel dropblock_size_abs ", 0 },
    { " [empty] [silence] ", " ", 0 },
    { " [detection] ", NULL, 0 },
    { " [region] ", NULL, 0 },
    { " [yolo] ", NULL, 0 },
    { " [gaussian_yolo] ", NULL, 0 },
};

static const host_cfg_index INDICES[] = {
    { "[route]", "layers", 1 },
    { "[shortcut]", "from", 1 },   /* a list here: the sum of several earlier layers */
    { "[scale_channels]", "from", 0 },
    { "[sam]", "from", 0 },
};

const host_cfg_dialect host__cfg = {
    .sections = SECTIONS,
    .nsections = (int)(sizeof SECTIONS / sizeof SECTIONS[0]),
    .common_keys = " show_receptive_field stopbackward clip onlyforward dont_update burnin_update train_only_bn "
        "dontload dontloadscales learning_rate ",
    .net_keys = " max_batches batch learning_rate learning_rate_min sgdr_cycle sgdr_mult momentum decay subdivisions "
        "time_steps track augment_speed sequential_subdivisions try_fix_nan weights_reject_freq equidistant_point "
        "badlabels_rejection_percentage num_sigmas_reject_badlabels ema_alpha use_cuda_graph loss_scale "
        "dynamic_minibatch optimized_memory workspace_size_limit_MB adam height width channels inputs max_crop "
        "min_crop flip blur gaussian_noise mixup cutmix mosaic letter_box mosaic_bound contrastive "
        "contrastive_jit_flip contrastive_color unsupervised label_smooth_eps resize_step attention adversarial_lr "
        "max_chart_loss angle aspect saturation exposure hue power policy burn_in "
        /* our schedules (plugins/train/schedule.c) */
        " fge_cycle fge_cycle_epochs sgdr_cycle_epochs ",
    .steps_keys = " steps scales seq_scales ",
    .activations = " logistic swish mish hard_mish normalize_channels normalize_channels_softmax "
        "normalize_channels_softmax_maxval loggy relu relu6 elu selu gelu relie plse hardtan lhtan linear ramp "
        "revleaky leaky tanh stair ",
    .indices = INDICES,
    .nindices = (int)(sizeof INDICES / sizeof INDICES[0]),
    .refuse_recurrent = 0,
    /* the layers with arrays that params.c does not list (it would refuse them after the parse) */
    .unsupported = " [local] [rnn] [gru] [lstm] [conv_lstm] [history] [crnn] [batchnorm] [implicit] [contrastive] ",
    .unsupported_why = "its parameter view lists the arrays of [convolutional] and [connected] layers only",
};
