"""The models of the course, each in a file a reader can take in at one sitting."""
