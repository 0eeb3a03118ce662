module.exports = require('../../tools/build/webpack.app.cjs')('ordering-worker');
